"""A C-style preprocessor for P4 sources (in-house; no gcc/cpp needed).

Supports what P4 programs use: `#include "file"` / `#include <file>` (found by an
:class:`~.includes.IncludeSource`: files on this machine for a local program, only the files a
device config carries for a received one; `<core.p4>` and `<v1model.p4>` are p4sim's own),
object-like and function-like `#define`, `#undef`, `#if`/`#ifdef`/`#ifndef`/`#elif`/`#else`/
`#endif` (with `defined(X)` and cpp's integer arithmetic, :mod:`.cpp_expr`), `#error`, and
ignores `#pragma`/`#line`. Its output is bounded (:mod:`.limits`).

The output keeps one output line per source line, and a line map that tells, for each output
line, the original file and line, so that later stages report errors where the user wrote
them. Comments are blanked out (preserving line and column structure).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CompileError, SourceLocation
from .cpp_expr import CppExprError
from .cpp_expr import evaluate as evaluate_cpp
from .includes import P4INCLUDE_DIR, BundleIncludes, FileIncludes, IncludeSource
from .limits import MAX_LINE_EXPANSION, MAX_MACRO_NESTING, MAX_PREPROCESSED_CHARS

__all__ = ["P4INCLUDE_DIR", "PreprocessedSource", "preprocess"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"[0-9A-Za-z_]+")
_DIRECTIVE = re.compile(r"^\s*#\s*([A-Za-z_]+)?(.*)$")
_MAX_INCLUDE_DEPTH = 64


@dataclass
class PreprocessedSource:
    """Preprocessed text plus `line_map[i]` = (file, line) of output line i+1."""

    text: str
    line_map: list[tuple[str, int]] = field(default_factory=list)
    filename: str = "<string>"

    def location(self, line: int, col: int) -> SourceLocation:
        """Map a 1-based (line, col) in `text` back to the original file."""
        if 1 <= line <= len(self.line_map):
            f, orig_line = self.line_map[line - 1]
            return SourceLocation(f, orig_line, col)
        return SourceLocation(self.filename, line, col)


@dataclass
class _Macro:
    name: str
    body: str
    params: list[str] | None = None  # None: object-like
    variadic: bool = False


def _strip_comments(text: str, filename: str) -> str:
    """Replace comments with spaces (newlines kept) without touching string literals."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"' and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                line = text.count("\n", 0, i) + 1
                col = i - (text.rfind("\n", 0, i) + 1) + 1
                raise CompileError("unterminated comment", file=filename, line=line, col=col)
            chunk = text[i : j + 2]
            out.append("".join(ch if ch == "\n" else " " for ch in chunk))
            i = j + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


class _Preprocessor:
    def __init__(self, includes: IncludeSource, defines: Mapping[str, object]) -> None:
        self.includes = includes
        self.macros: dict[str, _Macro] = {}
        for name, value in defines.items():
            self.macros[name] = _Macro(name, "1" if value is None else str(value))
        self.out_lines: list[str] = []
        self.line_map: list[tuple[str, int]] = []
        self.once: set[str] = set()
        self.size = 0  # characters emitted so far

    # ------------------------------------------------------------------ files

    def run_text(self, text: str, filename: str, directory: str | None, depth: int) -> None:
        if depth > _MAX_INCLUDE_DEPTH:
            raise CompileError("#include nested too deeply", file=filename, line=1, col=1)
        text = _strip_comments(text.replace("\r\n", "\n"), filename)
        raw_lines = text.split("\n")
        # conditional stack entries: [active, any_branch_taken, parent_active, else_seen]
        cond: list[list[bool]] = []
        i = 0
        while i < len(raw_lines):
            start = i
            line = raw_lines[i]
            # join backslash continuations (keeping the line count by emitting blanks)
            while line.endswith("\\") and i + 1 < len(raw_lines):
                i += 1
                line = line[:-1] + " " + raw_lines[i]
            extra = i - start
            i += 1
            active = all(c[0] for c in cond)
            m = _DIRECTIVE.match(line)
            if m:
                self._directive(m, line, filename, start + 1, directory, depth, cond, active)
                for _ in range(extra + 1):
                    self._emit("", filename, start + 1)
                continue
            if active:
                expanded = self.expand(line, filename, start + 1)
                self._emit(expanded, filename, start + 1)
            else:
                self._emit("", filename, start + 1)
            for k in range(extra):
                self._emit("", filename, start + 2 + k)
        if cond:
            raise CompileError("unterminated #if", file=filename, line=len(raw_lines), col=1)

    def _emit(self, text: str, filename: str, line: int) -> None:
        self.size += len(text) + 1
        if self.size > MAX_PREPROCESSED_CHARS:
            raise CompileError(
                f"the preprocessed program exceeds {MAX_PREPROCESSED_CHARS} characters",
                file=filename,
                line=line,
                col=1,
            )
        self.out_lines.append(text)
        self.line_map.append((filename, line))

    def _directive(
        self,
        m: re.Match[str],
        line: str,
        filename: str,
        lineno: int,
        directory: str | None,
        depth: int,
        cond: list[list[bool]],
        active: bool,
    ) -> None:
        name = m.group(1) or ""
        rest = m.group(2).strip()
        col = line.index("#") + 1

        def err(msg: str) -> CompileError:
            return CompileError(msg, file=filename, line=lineno, col=col)

        if name in ("if", "ifdef", "ifndef"):
            if not active:
                cond.append([False, True, False, False])
                return
            if name == "if":
                value = self.eval_condition(rest, filename, lineno, col)
            elif name == "ifdef":
                value = self._macro_name(rest, err) in self.macros
            else:
                value = self._macro_name(rest, err) not in self.macros
            cond.append([value, value, True, False])
            return
        if name == "elif":
            if not cond or cond[-1][3]:
                raise err("#elif without #if")
            top = cond[-1]
            if top[2] and not top[1]:
                top[0] = self.eval_condition(rest, filename, lineno, col)
                top[1] = top[0]
            else:
                top[0] = False
            return
        if name == "else":
            if not cond or cond[-1][3]:
                raise err("#else without #if")
            top = cond[-1]
            top[0] = top[2] and not top[1]
            top[1] = True
            top[3] = True
            return
        if name == "endif":
            if not cond:
                raise err("#endif without #if")
            cond.pop()
            return
        if not active:
            return
        if name == "define":
            self._define(rest, err)
        elif name == "undef":
            self.macros.pop(self._macro_name(rest, err), None)
        elif name == "include":
            self._include(rest, filename, lineno, col, directory, depth)
        elif name == "error":
            raise err(f"#error {rest}".rstrip())
        elif name in ("warning", "pragma", "line", ""):
            if name == "pragma" and rest == "once":
                self.once.add(filename)
        else:
            raise err(f"unknown preprocessor directive #{name}")

    @staticmethod
    def _macro_name(rest: str, err: Callable[[str], CompileError]) -> str:
        m = _IDENT.match(rest)
        if not m:
            raise err("macro name expected")
        return m.group(0)

    def _define(self, rest: str, err: Callable[[str], CompileError]) -> None:
        m = _IDENT.match(rest)
        if not m:
            raise err("macro name expected after #define")
        name = m.group(0)
        after = rest[m.end() :]
        if after.startswith("("):
            close = after.find(")")
            if close < 0:
                raise err(f"missing ')' in parameter list of macro {name}")
            params = [p.strip() for p in after[1:close].split(",") if p.strip()]
            variadic = False
            if params and params[-1] == "...":
                params[-1] = "__VA_ARGS__"
                variadic = True
            for p in params:
                if not _IDENT.fullmatch(p):
                    raise err(f"bad parameter '{p}' of macro {name}")
            self.macros[name] = _Macro(name, after[close + 1 :].strip(), params, variadic)
        else:
            self.macros[name] = _Macro(name, after.strip())

    def _include(
        self, rest: str, filename: str, lineno: int, col: int, directory: str | None, depth: int
    ) -> None:
        rest = self.expand(rest, filename, lineno).strip()
        m = re.match(r'^"([^"]+)"|^<([^>]+)>', rest)
        if not m:
            raise CompileError(
                f'bad #include {rest!r}: expected "file" or <file>',
                file=filename,
                line=lineno,
                col=col,
            )
        quoted, angled = m.group(1), m.group(2)
        target = quoted or angled
        found = self.includes.find(target, quoted=quoted is not None, directory=directory)
        if found is None:
            raise CompileError(self.includes.not_found(target), file=filename, line=lineno, col=col)
        if found.key in self.once or found.display in self.once:  # #pragma once: by display
            return
        if found.builtin:
            self.once.add(found.key)  # our own includes have guards anyway
        self.run_text(found.text, found.display, found.directory, depth + 1)

    # ------------------------------------------------------------ expansion

    def expand(
        self, text: str, filename: str, lineno: int, hidden: frozenset[str] = frozenset()
    ) -> str:
        if not self.macros:
            return text
        if len(hidden) > MAX_MACRO_NESTING:
            raise CompileError(
                f"macros expand inside one another more than {MAX_MACRO_NESTING} deep",
                file=filename,
                line=lineno,
                col=1,
            )
        out: list[str] = []
        size = 0

        def add(piece: str) -> None:
            nonlocal size
            size += len(piece)
            if size > MAX_LINE_EXPANSION:
                raise CompileError(
                    f"a line expands to more than {MAX_LINE_EXPANSION} characters of macros",
                    file=filename,
                    line=lineno,
                    col=1,
                )
            out.append(piece)

        i, n = 0, len(text)
        while i < n:
            c = text[i]
            if c == '"':
                j = i + 1
                while j < n and text[j] != '"':
                    j += 2 if text[j] == "\\" else 1
                add(text[i : j + 1])
                i = j + 1
                continue
            if c.isdigit():
                num = _NUMBER.match(text, i)
                if num is not None:  # None for a non-ASCII digit such as "²"
                    add(num.group(0))
                    i = num.end()
                    continue
            m = _IDENT.match(text, i)
            if not m:
                add(c)
                i += 1
                continue
            name = m.group(0)
            i = m.end()
            mac = self.macros.get(name)
            if mac is None or name in hidden:
                add(name)
                continue
            if mac.params is None:
                add(self.expand(mac.body, filename, lineno, hidden | {name}))
                continue
            j = i
            while j < n and text[j] in " \t":
                j += 1
            if j >= n or text[j] != "(":
                add(name)
                continue
            args, end = self._collect_args(text, j, filename, lineno, name)
            i = end
            add(
                self.expand(
                    self._substitute(mac, args, filename, lineno), filename, lineno, hidden | {name}
                )
            )
        return "".join(out)

    @staticmethod
    def _collect_args(
        text: str, j: int, filename: str, lineno: int, name: str
    ) -> tuple[list[str], int]:
        depth = 0
        args: list[str] = []
        cur: list[str] = []
        k = j
        while k < len(text):
            ch = text[k]
            if ch == "(":
                depth += 1
                if depth > 1:
                    cur.append(ch)
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    args.append("".join(cur).strip())
                    return args, k + 1
                cur.append(ch)
            elif ch == "," and depth == 1:
                args.append("".join(cur).strip())
                cur = []
            else:
                cur.append(ch)
            k += 1
        raise CompileError(
            f"unterminated argument list invoking macro {name}",
            file=filename,
            line=lineno,
            col=j + 1,
        )

    def _substitute(self, mac: _Macro, args: list[str], filename: str, lineno: int) -> str:
        params = mac.params or []
        if args == [""] and not params:
            args = []
        if mac.variadic:
            fixed = len(params) - 1
            if len(args) < fixed:
                raise CompileError(
                    f"macro {mac.name} expects at least {fixed} arguments",
                    file=filename,
                    line=lineno,
                    col=1,
                )
            args = args[:fixed] + [", ".join(args[fixed:])]
        elif len(args) != len(params):
            raise CompileError(
                f"macro {mac.name} expects {len(params)} arguments, got {len(args)}",
                file=filename,
                line=lineno,
                col=1,
            )
        binding = dict(zip(params, args))
        body = mac.body
        grown = len(body) + sum(
            len(binding[m.group(0)]) for m in _IDENT.finditer(body) if m.group(0) in binding
        )
        if grown > MAX_LINE_EXPANSION:
            raise CompileError(
                f"macro {mac.name} expands to more than {MAX_LINE_EXPANSION} characters",
                file=filename,
                line=lineno,
                col=1,
            )

        def stringify(m: re.Match[str]) -> str:
            return '"' + binding[m.group(1)].replace('"', '\\"') + '"'

        body = re.sub(
            r"(?<!#)#\s*([A-Za-z_][A-Za-z0-9_]*)",
            lambda m: stringify(m) if m.group(1) in binding else m.group(0),
            body,
        )
        body = _IDENT.sub(lambda m: binding.get(m.group(0), m.group(0)), body)
        return re.sub(r"\s*##\s*", "", body)

    # ------------------------------------------------------------ #if expressions

    def eval_condition(self, expr: str, filename: str, lineno: int, col: int) -> bool:
        expr = re.sub(
            r"defined\s*\(\s*([A-Za-z_]\w*)\s*\)|defined\s+([A-Za-z_]\w*)",
            lambda m: "1" if (m.group(1) or m.group(2)) in self.macros else "0",
            expr,
        )
        expr = self.expand(expr, filename, lineno)
        try:
            return evaluate_cpp(expr).value != 0
        except CppExprError as exc:
            raise CompileError(
                f"#if {expr.strip()[:80]!r}: {exc}", file=filename, line=lineno, col=col
            ) from None


def preprocess(
    path_or_text: str | os.PathLike[str],
    *,
    include_dirs: Sequence[str | os.PathLike[str]] = (),
    defines: Mapping[str, object] | None = None,
    filename: str | None = None,
    files: Mapping[str, str] | None = None,
) -> PreprocessedSource:
    """Preprocess a file (a Path, or a str naming an existing file when `filename` is None)
    or a text (a str with `filename` given, or any str containing a newline).

    A file's includes are looked up on this machine (its directory, `include_dirs`, p4sim's
    headers). A text's are looked up in `include_dirs` when given, otherwise only in `files`
    (a bundle: relative name -> text) and p4sim's own headers: `filename` names the text in
    messages and is never opened, nor is any directory derived from it."""
    defines = dict(defines or {})
    if isinstance(path_or_text, os.PathLike) or (
        filename is None
        and files is None
        and "\n" not in path_or_text
        and Path(path_or_text).is_file()
    ):
        path = Path(path_or_text)
        if not path.is_file():
            raise CompileError(f"cannot read {path}", file=str(path), line=0, col=0)
        name = str(path)
        pp = _Preprocessor(FileIncludes(include_dirs), defines)
        pp.run_text(path.read_text(encoding="utf-8"), name, str(path.parent), 0)
    else:
        if include_dirs and files is not None:
            raise ValueError("preprocess: give include_dirs or files, not both")
        name = filename or "<string>"
        includes: IncludeSource = (
            FileIncludes(include_dirs) if include_dirs else BundleIncludes(files or {})
        )
        pp = _Preprocessor(includes, defines)
        pp.run_text(str(path_or_text), name, None, 0)
    return PreprocessedSource("\n".join(pp.out_lines) + "\n", pp.line_map, name)
