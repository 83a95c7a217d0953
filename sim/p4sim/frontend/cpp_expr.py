"""``#if`` arithmetic, evaluated as cpp does (C11 6.10.1), on 64-bit integers.

The expression has had ``defined`` and its macros replaced; identifiers still left are 0.
Integers are cpp's ``intmax_t`` / ``uintmax_t``: decimal, hex (``0x``), octal (leading ``0``)
and binary (``0b``, as gcc) literals with ``u``/``l`` suffixes, and character literals with
their escapes. A literal or an operand marked unsigned makes the operation unsigned (the usual
arithmetic conversions); signed results wrap as gcc's do. Operands of ``&&``, ``||`` and
``?:`` that are not evaluated may divide by zero, as in C. Nothing is handed to Python's
``eval``: the parser below knows only these operators, and every value fits in 64 bits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .limits import MAX_IF_NESTING

_BITS = 64
_MASK = (1 << _BITS) - 1
_SIGN = 1 << (_BITS - 1)

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>(?:0[xX][0-9A-Za-z_]*|0[bB][0-9A-Za-z_]*|[0-9][0-9A-Za-z_]*))
    | (?P<char>[LuU]?'(?:[^'\\\n]|\\.)*')
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op>\|\||&&|<<|>>|<=|>=|==|!=|[-+*/%<>&|^~!?:()])
    )""",
    re.VERBOSE,
)
_INT = re.compile(
    r"(?:0[xX](?P<hex>[0-9A-Fa-f]+)|0[bB](?P<bin>[01]+)|(?P<dec>[1-9][0-9]*)|(?P<oct>0[0-7]*))"
    r"(?P<suffix>[uU](?:ll|LL|[lL])?|(?:ll|LL|[lL])[uU]?)?"
)
_ESCAPES = {
    "n": 10,
    "t": 9,
    "r": 13,
    "a": 7,
    "b": 8,
    "f": 12,
    "v": 11,
    "e": 27,
    "\\": 92,
    "'": 39,
    '"': 34,
    "?": 63,
}
_BINARY: dict[str, int] = {
    "||": 1,
    "&&": 2,
    "|": 3,
    "^": 4,
    "&": 5,
    "==": 6,
    "!=": 6,
    "<": 7,
    ">": 7,
    "<=": 7,
    ">=": 7,
    "<<": 8,
    ">>": 8,
    "+": 9,
    "-": 9,
    "*": 10,
    "/": 10,
    "%": 10,
}


class CppExprError(ValueError):
    """The expression is not one cpp evaluates; the message says what is wrong."""


@dataclass(frozen=True)
class Value:
    """A cpp integer: its value (in range for its type) and whether it is unsigned."""

    value: int
    unsigned: bool = False


def _make(v: int, unsigned: bool) -> Value:
    v &= _MASK
    if not unsigned and v & _SIGN:
        v -= 1 << _BITS
    return Value(v, unsigned)


def _tokens(expr: str) -> list[str]:
    out: list[str] = []
    expr = expr.strip()
    pos = 0
    n = len(expr)
    while pos < n:
        m = _TOKEN.match(expr, pos)
        if m is None or m.end() == pos:
            bad = expr[pos:].strip()[:20]
            raise CppExprError(f"unexpected {bad!r}")
        out.append(m.group(m.lastgroup or "op"))
        pos = m.end()
    return out


def parse_integer(text: str) -> Value:
    """A cpp integer literal (``0x10``, ``017``, ``0b11``, ``42UL``)."""
    m = _INT.fullmatch(text)
    if m is None:
        raise CppExprError(f"invalid integer constant {text!r}")
    if m.group("hex") is not None:
        v = int(m.group("hex"), 16)
    elif m.group("bin") is not None:
        v = int(m.group("bin"), 2)
    elif m.group("dec") is not None:
        digits = m.group("dec")
        if len(digits) > 20:
            raise CppExprError(f"integer constant {text!r} is too large for 64 bits")
        v = int(digits)
    else:
        v = int(m.group("oct"), 8)
    if v > _MASK:
        raise CppExprError(f"integer constant {text!r} is too large for 64 bits")
    suffix = (m.group("suffix") or "").lower()
    unsigned = "u" in suffix or v > _MASK >> 1
    return _make(v, unsigned)


def parse_char(text: str) -> Value:
    """A character constant (``'a'``, ``'\\n'``, ``'\\x41'``, ``'\\101'``)."""
    body = text[text.index("'") + 1 : -1]
    if not body:
        raise CppExprError("empty character constant")
    if body[0] != "\\":
        if len(body) != 1:
            raise CppExprError(f"multi-character constant {text}")
        return Value(ord(body))
    esc = body[1:]
    if esc[:1] in ("x", "X"):
        digits = esc[1:]
        if not re.fullmatch(r"[0-9A-Fa-f]{1,8}", digits):
            raise CppExprError(f"invalid hex escape in {text}")
        return Value(int(digits, 16))
    if re.fullmatch(r"[0-7]{1,3}", esc):
        return Value(int(esc, 8))
    if len(esc) == 1 and esc in _ESCAPES:
        return Value(_ESCAPES[esc])
    raise CppExprError(f"invalid escape in character constant {text}")


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        tok = self.peek()
        if tok is None:
            raise CppExprError("expression ends too early")
        self.pos += 1
        return tok

    def expect(self, tok: str) -> None:
        got = self.peek()
        if got != tok:
            raise CppExprError(f"expected {tok!r}, found {got!r}" if got else f"missing {tok!r}")
        self.pos += 1

    def conditional(self, live: bool, depth: int) -> Value:
        if depth > MAX_IF_NESTING:
            raise CppExprError(f"expression nested more than {MAX_IF_NESTING} deep")
        cond = self.binary(1, live, depth + 1)
        if self.peek() != "?":
            return cond
        self.pos += 1
        taken = cond.value != 0
        a = self.conditional(live and taken, depth + 1)
        self.expect(":")
        b = self.conditional(live and not taken, depth + 1)
        unsigned = a.unsigned or b.unsigned
        return _make((a if taken else b).value, unsigned)

    def binary(self, min_prec: int, live: bool, depth: int) -> Value:
        left = self.unary(live, depth)
        while True:
            op = self.peek()
            prec = _BINARY.get(op or "")
            if prec is None or prec < min_prec:
                return left
            self.pos += 1
            assert op is not None
            if op == "&&":
                right = self.binary(prec + 1, live and left.value != 0, depth + 1)
                left = Value(int(left.value != 0 and right.value != 0))
            elif op == "||":
                right = self.binary(prec + 1, live and left.value == 0, depth + 1)
                left = Value(int(left.value != 0 or right.value != 0))
            else:
                right = self.binary(prec + 1, live, depth + 1)
                left = _apply(op, left, right, live)

    def unary(self, live: bool, depth: int) -> Value:
        if depth > MAX_IF_NESTING:
            raise CppExprError(f"expression nested more than {MAX_IF_NESTING} deep")
        tok = self.take()
        if tok in ("+", "-", "~", "!"):
            v = self.unary(live, depth + 1)
            if tok == "+":
                return v
            if tok == "-":
                return _make(-v.value, v.unsigned)
            if tok == "~":
                return _make(~v.value, v.unsigned)
            return Value(int(v.value == 0))
        if tok == "(":
            v = self.conditional(live, depth + 1)
            self.expect(")")
            return v
        if tok[0].isdigit():
            return parse_integer(tok)
        if tok.endswith("'"):
            return parse_char(tok)
        if tok[0].isalpha() or tok[0] == "_":
            return Value(0)  # an identifier no macro replaced
        raise CppExprError(f"unexpected {tok!r}")


def _apply(op: str, a: Value, b: Value, live: bool) -> Value:
    if op in ("<<", ">>"):
        unsigned = a.unsigned  # a shift has the type of its left operand
        count = b.value
        if b.unsigned and count >= 1 << (_BITS - 1):
            count -= 1 << _BITS
        if count < 0:  # gcc shifts the other way
            op, count = (">>" if op == "<<" else "<<"), -count
        if op == "<<":
            return _make(a.value << min(count, _BITS), unsigned)
        if unsigned:
            return _make(a.value >> min(count, _BITS), True)
        return _make(a.value >> min(count, _BITS - 1), False)
    unsigned = a.unsigned or b.unsigned
    x = a.value & _MASK if unsigned else a.value
    y = b.value & _MASK if unsigned else b.value
    if op in ("==", "!=", "<", ">", "<=", ">="):
        result = {
            "==": x == y,
            "!=": x != y,
            "<": x < y,
            ">": x > y,
            "<=": x <= y,
            ">=": x >= y,
        }[op]
        return Value(int(result))
    if op in ("/", "%"):
        if y == 0:
            if live:
                raise CppExprError("division by zero in #if")
            return Value(0, unsigned)
        q = abs(x) // abs(y) * (1 if (x >= 0) == (y >= 0) else -1)  # C truncates
        return _make(q if op == "/" else x - q * y, unsigned)
    if op == "+":
        return _make(x + y, unsigned)
    if op == "-":
        return _make(x - y, unsigned)
    if op == "*":
        return _make(x * y, unsigned)
    if op == "&":
        return _make(x & y, unsigned)
    if op == "|":
        return _make(x | y, unsigned)
    return _make(x ^ y, unsigned)  # "^"


def evaluate(expr: str) -> Value:
    """The value of a ``#if`` expression whose macros are already expanded."""
    tokens = _tokens(expr)
    if not tokens:
        raise CppExprError("#if with no expression")
    p = _Parser(tokens)
    v = p.conditional(True, 0)
    if p.peek() is not None:
        raise CppExprError(f"unexpected {p.peek()!r} after the expression")
    return v
