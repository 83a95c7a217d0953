"""What a YAML library would silently reinterpret, refused on the composed node tree.

Two things PyYAML (and YAML itself) lets through that a description must not hold:

- a key written twice in one mapping: the second silently replaces the first;
- a scalar whose meaning depends on the YAML version or on the library: `010` (octal 8
  in YAML 1.1, 10 in YAML 1.2), `1:40` (base 60: 100), `0b11`, `1_000`, and the YAML 1.1
  booleans `yes`/`no`/`on`/`off` (strings in YAML 1.2).

The checks read each scalar's source text, not the value built from it. Numbers are
plain decimal (`-5`, `0`, `4094`) or hex (`0x001001`: the same in YAML 1.1 and 1.2, and
how VSIDs are written); booleans are `true`/`false` (`True`/`TRUE`/... too). Quoted
scalars are strings and are not checked here: the model refuses a string where it wants
a number or a boolean. Runs after the loader's nesting and alias limits, so the
recursion is at most MAX_NESTING deep and the walk linear in the composed graph.
"""

from __future__ import annotations

import re

import yaml

from nve.problems import Problem

_INT, _BOOL, _FLOAT = (
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:float",
)
_MERGE = "tag:yaml.org,2002:merge"
_CHECKED = frozenset({_INT, _BOOL, _FLOAT})

_PLAIN_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)|0x[0-9a-fA-F]+")
_PLAIN_BOOL = frozenset({"true", "True", "TRUE", "false", "False", "FALSE"})
_YAML11_TRUE = frozenset({"yes", "on", "y"})
_LEADING_ZERO = re.compile(r"([-+]?)0([0-7_]+)")


def _base60(text: str) -> str:
    sign = -1 if text.startswith("-") else 1
    value = 0
    for part in text.lstrip("+-").replace("_", "").split(":"):
        value = value * 60 + int(part)
    return str(sign * value)


def _int_text_problem(text: str) -> str:
    if ":" in text:
        return (
            f"{text} is a YAML 1.1 base-60 number ({_base60(text)}) and a string in YAML 1.2: "
            "write the number in decimal, or quote it for a string"
        )
    zero = _LEADING_ZERO.fullmatch(text)
    if zero:
        digits = zero.group(2).replace("_", "")
        sign = zero.group(1).replace("+", "")
        return (
            f"{text} has a leading zero: YAML 1.1 reads {sign}{int(digits, 8)} (octal), "
            f"YAML 1.2 {sign}{int(digits, 10)}: write it without leading zeros, "
            "or quote it for a string"
        )
    if text.lstrip("+-").startswith("0b"):
        return (
            f"{text} is a YAML 1.1 binary number, a string in YAML 1.2: write it in decimal or hex"
        )
    if "_" in text:
        return f"{text}: '_' digit separators are YAML 1.1 only: write {text.replace('_', '')}"
    return f"{text} is not a plain decimal or 0x hex integer"


def scalar_problem(node: yaml.Node) -> str | None:
    """Why this scalar's text is refused, or None: int, bool and float tags are checked."""
    tag, text = node.tag, node.value
    if tag == _INT:
        return None if _PLAIN_INT.fullmatch(text) else _int_text_problem(text)
    if tag == _BOOL:
        if text in _PLAIN_BOOL:
            return None
        meant = "true" if text.lower() in _YAML11_TRUE else "false"
        return (
            f"{text} is a YAML 1.1 boolean ({meant}) and a string in YAML 1.2: "
            "write true or false for a boolean, or quote it for a string"
        )
    if tag == _FLOAT and (":" in text or "_" in text):
        return f"{text} is a YAML 1.1-only way to write a number: write it in plain decimal"
    return None


def strict_problems(root: yaml.Node, source: str) -> list[Problem]:
    """Duplicate keys (naming both places) and version-dependent scalars, anywhere in the tree."""
    problems: list[Problem] = []
    path: list[str | int] = []
    seen: set[int] = set()
    scalar_kind, mapping_kind, sequence_kind = yaml.ScalarNode, yaml.MappingNode, yaml.SequenceNode

    def where(n: yaml.Node) -> tuple[int, int]:
        return n.start_mark.line + 1, n.start_mark.column + 1

    def add(n: yaml.Node, message: str) -> None:
        line, col = where(n)
        problems.append(Problem(tuple(path), message, source, line, col))

    def scalar(n: yaml.Node) -> None:
        if n.tag in _CHECKED and id(n) not in seen:
            seen.add(id(n))  # an aliased scalar is reported once, where it is written
            message = scalar_problem(n)
            if message is not None:
                add(n, message)

    def duplicate(first: yaml.Node, again: yaml.Node) -> str:
        (l1, c1), (l2, c2) = where(first), where(again)
        return (
            f"duplicate key {again.value!r}: first at {source}:{l1}:{c1}, "
            f"again at {source}:{l2}:{c2} (the second would silently replace the first)"
        )

    def walk(n: yaml.Node) -> None:
        kind = type(n)
        if kind is scalar_kind:
            scalar(n)
            return
        if id(n) in seen:
            return  # an alias of a collection already checked
        seen.add(id(n))
        if kind is sequence_kind:
            for index, item in enumerate(n.value):
                if type(item) is scalar_kind:
                    if item.tag in _CHECKED:
                        path.append(index)
                        scalar(item)
                        path.pop()
                else:
                    path.append(index)
                    walk(item)
                    path.pop()
        elif kind is mapping_kind:
            keys: dict[tuple[str, str], yaml.Node] = {}
            for key_node, value_node in n.value:
                if type(key_node) is not scalar_kind:
                    walk(key_node)
                    walk(value_node)
                    continue
                if key_node.tag == _MERGE:
                    walk(value_node)  # merged keys may be overridden: that is what << is for
                    continue
                path.append(key_node.value)
                ident = (key_node.tag, key_node.value)
                if ident in keys:
                    add(key_node, duplicate(keys[ident], key_node))
                else:
                    keys[ident] = key_node
                scalar(key_node)
                if type(value_node) is scalar_kind:
                    if value_node.tag in _CHECKED:
                        scalar(value_node)
                else:
                    walk(value_node)
                path.pop()

    walk(root)
    return problems
