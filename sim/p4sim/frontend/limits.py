"""The front end's size limits: what a program may ask of the compiler.

A program is data from whoever sent it, so every quantity the compiler materialises from it
is bounded. The widths and stack sizes are p4c's own (``P4CConfiguration``:
``MaximumWidthSupported`` and ``MaximumArraySize``), so no program p4c accepts is refused.
"""

from __future__ import annotations

#: widest bit<W>, int<W> and varbit<W> (p4c's MaximumWidthSupported)
MAX_WIDTH = 2048
#: most elements in a header stack (p4c's MaximumArraySize)
MAX_STACK_SIZE = 256
#: bits in any compile-time integer, typed or not (twice the widest type: products fit)
MAX_CONSTANT_BITS = 2 * MAX_WIDTH
#: characters of preprocessed output (the whole device config is capped at 64 MiB)
MAX_PREPROCESSED_CHARS = 64 * 1024 * 1024
#: characters one line may expand to through its macros
MAX_LINE_EXPANSION = 1024 * 1024
#: macros expanding inside one another
MAX_MACRO_NESTING = 200
#: parentheses and operators nested in one #if expression
MAX_IF_NESTING = 256
