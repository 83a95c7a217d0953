"""The p4sim compiler driver: source -> checked IR (+ P4Info on demand).

The stages (preprocess, parse, resolve, checks, P4Info ids) live in their own modules; this
module only chains them and packages the result as a `Program`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import CompileError, Diagnostic
from .frontend import checks
from .frontend.ir import ProgramIR
from .frontend.parser import parse
from .frontend.preprocess import PreprocessedSource, preprocess
from .frontend.resolve import resolve
from .p4info.ids import assign_ids

if TYPE_CHECKING:
    from finsy.proto import p4i


@dataclass
class Program:
    """A compiled program: the checked IR, warnings, and the preprocessed source.

    `source` is self-contained (includes expanded), so `compile_source(program.source)`
    rebuilds the same program without any include directory.
    """

    ir: ProgramIR
    warnings: list[Diagnostic]
    source: str
    filename: str = "<string>"
    preprocessed: PreprocessedSource | None = field(default=None, repr=False)

    def p4info(self) -> p4i.P4Info:
        """The P4Info message (finsy.proto.p4i.P4Info), as p4c would generate it."""
        from .p4info import build_p4info

        return build_p4info(self.ir)


def _compile(pp: PreprocessedSource) -> Program:
    tree = parse(pp)
    program_ir, warnings = resolve(tree, pp)
    warnings = warnings + checks.run_checks(program_ir)
    assign_ids(program_ir)
    return Program(program_ir, warnings, pp.text, pp.filename, pp)


def compile_file(
    path: str | os.PathLike[str],
    *,
    include_dirs: Sequence[str | os.PathLike[str]] = (),
    defines: Mapping[str, object] | None = None,
) -> Program:
    """Compile a P4 file. Raises CompileError (file:line:col) on any error."""
    p = Path(path)
    if not p.is_file():
        raise CompileError(f"cannot read P4 source {str(p)!r}", file=str(p), line=0, col=0)
    return _compile(preprocess(p, include_dirs=include_dirs, defines=defines or {}))


def compile_source(
    text: str,
    *,
    filename: str = "<string>",
    include_dirs: Sequence[str | os.PathLike[str]] = (),
    defines: Mapping[str, object] | None = None,
    files: Mapping[str, str] | None = None,
) -> Program:
    """Compile P4 source text. `filename` names it in messages only (it is never opened);
    its includes come from `include_dirs` if given, else only from `files` (relative name ->
    text) and p4sim's own <core.p4> and <v1model.p4>."""
    return _compile(
        preprocess(
            text, include_dirs=include_dirs, defines=defines or {}, filename=filename, files=files
        )
    )
