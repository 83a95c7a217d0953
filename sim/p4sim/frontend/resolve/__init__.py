"""Name resolution, type checking and elaboration: lark parse tree -> ir.ProgramIR.

One pass over the declarations in order (P4 requires declaration before use) builds the type
table and the global scope; the package instantiation (`V1Switch(...) main;`) then elaborates
each block: a control or parser is resolved once per instance, so that nested instances get
their own tables and externs and their P4Info names (p4c's rules: the control's name, then the
instance path, then the object's `@name` or local name; a `@name` starting with "." is global;
top-level actions keep their bare names).

Anything the subset does not cover is rejected here with the construct's name and position.

The `Resolver` is assembled from one mixin per construct, each in its own module: `types`,
`declarations`, `externs`, `functions`, `parsers`, `controls`, `tables`, `statements`,
`expressions` and `operators`, over `base` (state, diagnostics), `scope` and `tree` (parse-tree access).
"""

from __future__ import annotations

from lark import Token, Tree

from ...errors import Diagnostic
from .. import ir
from ..preprocess import PreprocessedSource
from .controls import ResolveControls
from .declarations import ResolveDeclarations
from .expressions import ResolveExpressions
from .externs import ResolveExterns
from .functions import ResolveFunctions
from .operators import ResolveOperators
from .parsers import ResolveParsers
from .statements import ResolveStatements
from .tables import ResolveTables
from .types import ResolveTypes

__all__ = ["Resolver", "resolve"]


class Resolver(
    ResolveDeclarations,
    ResolveTypes,
    ResolveExterns,
    ResolveFunctions,
    ResolveParsers,
    ResolveControls,
    ResolveTables,
    ResolveStatements,
    ResolveExpressions,
    ResolveOperators,
):
    """Resolves one parse tree: `Resolver(tree, source).run()` returns the ProgramIR and
    leaves the warnings in `.warnings`."""


def resolve(tree: Tree[Token], source: PreprocessedSource) -> tuple[ir.ProgramIR, list[Diagnostic]]:
    """Resolve and type-check a parse tree into the IR (plus warnings)."""
    r = Resolver(tree, source)
    program = r.run()
    return program, r.warnings
