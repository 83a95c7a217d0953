"""The p4sim front end: preprocess -> parse -> resolve/type-check into the IR -> checks.

Each stage is its own module so that it can be tested alone: `preprocess`, `parser`
(lark, LALR), `resolve` (names, types, instances; produces `ir.ProgramIR`) and `checks`.
"""
