"""Parsing: preprocessed P4 text -> lark parse tree (with positions).

The P4_16 grammar is not context free at the token level: an identifier that names a type
must be lexed as TYPE_IDENTIFIER. The spec has the lexer consult the parser's symbol table;
here a post-lexer pass over the whole token stream does the equivalent in two steps:

1. collect the names that declarations introduce as types (header, struct, header_union,
   enum, typedef, type, extern object, parser, control and package names), and the type
   parameters of generic declarations together with the token span they are visible in;
2. re-type IDENTIFIER tokens naming a visible type as TYPE_IDENTIFIER, and turn a `<` that
   opens the type arguments of a generic function/method call (`digest<T>(...)`) into TA_OPEN.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ..errors import CompileError
from .grammar import GRAMMAR
from .preprocess import PreprocessedSource

_TYPE_DECL_KEYWORDS = {"header", "struct", "header_union", "parser", "control", "package"}
_TYPE_START_KEYWORDS = {
    "BIT",
    "INT",
    "VARBIT",
    "BOOL",
    "ERROR",
    "STRING",
    "TUPLE",
    "VOID",
    "DONTCARE",
}


def _is_kw(tok: Token, word: str) -> bool:
    return tok.type not in ("IDENTIFIER", "STRING_LITERAL", "ANNOTATION") and tok.value == word


class _TypeNamePostLex:
    """lark post-lexer implementing TYPE_IDENTIFIER / TA_OPEN (see module docstring)."""

    always_accept = ("IDENTIFIER",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        toks = list(stream)
        is_type = self._classify(toks)
        for i, tok in enumerate(toks):
            if tok.type == "IDENTIFIER" and is_type[i]:
                toks[i] = Token.new_borrow_pos("TYPE_IDENTIFIER", tok.value, tok)
        for i, tok in enumerate(toks):
            if (
                tok.value == "<"
                and tok.type != "STRING_LITERAL"
                and i > 0
                and toks[i - 1].type == "IDENTIFIER"
                and self._opens_type_args(toks, i)
            ):
                toks[i] = Token.new_borrow_pos("TA_OPEN", "<", tok)
        yield from toks

    @staticmethod
    def _opens_type_args(toks: list[Token], i: int) -> bool:
        if i + 1 >= len(toks):
            return False
        nxt = toks[i + 1]
        if not (
            nxt.type == "TYPE_IDENTIFIER"
            or nxt.type in _TYPE_START_KEYWORDS
            or (nxt.value == "tuple" and nxt.type != "IDENTIFIER")
        ):
            return False
        depth = 0
        for j in range(i, len(toks)):
            v = toks[j]
            if v.type in ("STRING_LITERAL",):
                return False
            if v.value == "<" and v.type != "RELOP":
                depth += 1
            elif v.value == ">":
                depth -= 1
                if depth == 0:
                    return j + 1 < len(toks) and toks[j + 1].value == "("
            elif v.value in (";", "{", "}", "=", ")"):
                return False
        return False

    @staticmethod
    def _classify(toks: list[Token]) -> list[bool]:
        n = len(toks)
        globals_: set[str] = set()
        spans: list[tuple[int, int, set[str]]] = []

        def end_of_decl(start: int) -> int:
            """Index of the `;` or matching `}` ending the declaration starting at start."""
            depth = 0
            for j in range(start, n):
                v = toks[j].value if toks[j].type not in ("STRING_LITERAL",) else ""
                if v == "{":
                    depth += 1
                elif v == "}":
                    depth -= 1
                    if depth <= 0:
                        return j
                elif v == ";" and depth == 0:
                    return j
            return n - 1

        def type_params_at(j: int) -> tuple[set[str], int]:
            """If toks[j] is '<' starting a type parameter list, return names and end."""
            names: set[str] = set()
            if j >= n or toks[j].value != "<":
                return names, j
            k = j + 1
            while k < n and toks[k].value != ">":
                if toks[k].type == "IDENTIFIER":
                    names.add(toks[k].value)
                elif toks[k].value != ",":
                    return set(), j
                k += 1
            return names, k

        def next_ident(j: int) -> int | None:
            while j < n and toks[j].type != "IDENTIFIER":
                if toks[j].value in (";", "{", "(", "}"):
                    return None
                j += 1
            return j if j < n else None

        def generic_methods(start: int, end: int) -> None:
            """Within [start, end): `name<T,...>(` introduces T up to the next `;`/`{`."""
            k = start
            while k < end:
                if toks[k].type == "IDENTIFIER" and k + 1 < end and toks[k + 1].value == "<":
                    names, close = type_params_at(k + 1)
                    if names and close + 1 < n and toks[close + 1].value == "(":
                        # the span starts at the beginning of the method declaration
                        s = k
                        while s > start and toks[s - 1].value not in (";", "{", "}"):
                            s -= 1
                        e = s
                        while e < end and toks[e].value not in (";", "{"):
                            e += 1
                        spans.append((s, e, names))
                        k = close
                k += 1

        i = 0
        while i < n:
            tok = toks[i]
            if tok.type in ("IDENTIFIER", "STRING_LITERAL", "ANNOTATION"):
                i += 1
                continue
            word = tok.value
            if word in _TYPE_DECL_KEYWORDS or word == "enum":
                j = next_ident(i + 1)
                if j is not None:
                    globals_.add(toks[j].value)
                    names, _ = type_params_at(j + 1)
                    if names:
                        spans.append((i, end_of_decl(i), names))
            elif word in ("typedef", "type"):
                # the `;` ending the declaration (a typedef may declare a header or struct)
                e, depth = i, 0
                while e < n - 1 and not (toks[e].value == ";" and depth == 0):
                    if toks[e].type != "STRING_LITERAL":
                        depth += {"{": 1, "}": -1}.get(toks[e].value, 0)
                    e += 1
                if toks[e - 1].type == "IDENTIFIER":
                    globals_.add(toks[e - 1].value)
            elif word == "extern":
                k = i + 1
                while k < n and toks[k].value not in ("{", "(", ";"):
                    k += 1
                e = end_of_decl(i)
                if k < n and toks[k].value == "{":
                    j = next_ident(i + 1)
                    if j is not None:
                        globals_.add(toks[j].value)
                        names, _ = type_params_at(j + 1)
                        if names:
                            spans.append((i, e, names))
                    generic_methods(k + 1, e)
                else:
                    if k == i + 2 and k < n and toks[k].value == ";":
                        globals_.add(toks[i + 1].value)  # a forward declaration: `extern E;`
                    generic_methods(i + 1, e + 1)
            i += 1
        # generic functions: `T f<T>(...) {...}`, T visible from the return type to the end
        depth = 0
        for k, tok in enumerate(toks):
            if tok.type == "STRING_LITERAL":
                continue
            if tok.value == "{":
                depth += 1
            elif tok.value == "}":
                depth -= 1
            elif depth == 0 and tok.type == "IDENTIFIER" and k + 1 < n and toks[k + 1].value == "<":
                names, close = type_params_at(k + 1)
                if names and close + 1 < n and toks[close + 1].value == "(":
                    start = k
                    while start > 0 and toks[start - 1].value not in (";", "}"):
                        start -= 1
                    spans.append((start, end_of_decl(k), names))
        result = [False] * n
        for idx, tok in enumerate(toks):
            if tok.type == "IDENTIFIER" and tok.value in globals_:
                result[idx] = True
        for s, e, names in spans:
            for idx in range(s, min(e + 1, n)):
                if toks[idx].type == "IDENTIFIER" and toks[idx].value in names:
                    result[idx] = True
        return result


@lru_cache(maxsize=1)
def _lark() -> Lark:
    return Lark(
        GRAMMAR,
        parser="lalr",
        lexer="basic",
        postlex=_TypeNamePostLex(),
        propagate_positions=True,
        maybe_placeholders=False,
        cache=False,
    )


_TOKEN_DESCRIPTIONS = {
    "SEMICOLON": "';'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LPAR": "'('",
    "RPAR": "')'",
    "IDENTIFIER": "identifier",
    "TYPE_IDENTIFIER": "type name",
    "INTEGER": "integer",
}


def parse(source: PreprocessedSource) -> Tree[Token]:
    """Parse preprocessed text; syntax errors become CompileError at the original position."""
    try:
        return _lark().parse(source.text)
    except UnexpectedToken as e:
        tok = e.token
        loc = source.location(getattr(tok, "line", 0) or 0, getattr(tok, "column", 0) or 0)
        if tok.type == "$END":
            what = "end of input"
        else:
            what = repr(str(tok.value))
        raise CompileError.at(f"syntax error: unexpected {what}", loc) from None
    except UnexpectedCharacters as e:
        loc = source.location(e.line, e.column)
        ch = source.text.splitlines()[e.line - 1][e.column - 1 : e.column] if e.line else "?"
        raise CompileError.at(f"syntax error: unexpected character {ch!r}", loc) from None
    except UnexpectedEOF:
        lines = source.text.rstrip("\n").split("\n")
        loc = source.location(len(lines), len(lines[-1]) + 1)
        raise CompileError.at("syntax error: unexpected end of input", loc) from None
    except UnexpectedInput as e:  # pragma: no cover - other lark input errors
        loc = source.location(getattr(e, "line", 0), getattr(e, "column", 0))
        raise CompileError.at(f"syntax error: {e}", loc) from None


def parse_text(text: str, filename: str = "<string>") -> Tree[Token]:
    """Parse already-preprocessed text (for tests of the parser stage alone)."""
    lines = text.split("\n")
    return parse(PreprocessedSource(text, [(filename, i + 1) for i in range(len(lines))], filename))
