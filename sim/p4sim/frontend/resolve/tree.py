"""Reading the lark parse tree: child trees and tokens, names, and annotation arguments."""

from __future__ import annotations

from typing import TypeAlias

from lark import Token, Tree

from ...errors import SourceLocation

Node: TypeAlias = Tree[Token] | Token
# What an error or warning can point at: a parse-tree node or an already mapped location.
Where: TypeAlias = Tree[Token] | Token | SourceLocation | None


def _kids(t: Tree[Token]) -> list[Tree[Token]]:
    """Child trees (tokens dropped)."""
    return [c for c in t.children if isinstance(c, Tree)]


def _tokens(t: Tree[Token]) -> list[Token]:
    return [c for c in t.children if isinstance(c, Token)]


def _name(t: Node) -> str:
    if isinstance(t, Token):
        return str(t)
    for c in t.children:
        if isinstance(c, Token):
            return str(c)
        return _name(c)
    raise ValueError("no name")


def _child(t: Tree[Token], data: str) -> Tree[Token] | None:
    for c in t.children:
        if isinstance(c, Tree) and c.data == data:
            return c
    return None


def _need(t: Tree[Token], data: str) -> Tree[Token]:
    """The child tree `data` that the grammar guarantees `t` has."""
    c = _child(t, data)
    if c is None:
        raise ValueError(f"{t.data} has no {data}")
    return c


def _children(t: Tree[Token], data: str) -> list[Tree[Token]]:
    return [c for c in t.children if isinstance(c, Tree) and c.data == data]


def _split_args(body: str, unquote: bool = True) -> list[str]:
    out, depth, cur, in_str = [], 0, [], False
    i = 0
    while i < len(body):
        ch = body[i]
        if in_str:
            cur.append(ch)
            if ch == "\\" and i + 1 < len(body):
                cur.append(body[i + 1])
                i += 1
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
            cur.append(ch)
        elif ch in "([{":
            depth += 1
            cur.append(ch)
        elif ch in ")]}":
            depth -= 1
            cur.append(ch)
        elif ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
        i += 1
    if cur or out:
        out.append("".join(cur).strip())
    if not unquote:
        return out
    return [a[1:-1] if len(a) >= 2 and a[0] == '"' and a[-1] == '"' else a for a in out]
