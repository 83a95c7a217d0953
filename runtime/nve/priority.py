"""Priority maps of the overlay description (IEEE 802.1Q PCP <-> DSCP), as pydantic types.

A map is a YAML mapping of code point to code point: `pcp_to_dscp` has at most 8 entries
(PCP 0-7, each to a DSCP 0-63), `dscp_to_pcp` at most 64 (DSCP 0-63, each to a PCP 0-7).
Errors name the offending key or value and the range it must be in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from pydantic import BeforeValidator, Field

PCP_MAX = 7
DSCP_MAX = 63


def _code(value: object, top: int) -> int | None:
    """The code point, or None when it is not an integer 0..top."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
        return None
    return value


def _map_parser(
    key_what: str, key_top: int, value_what: str, value_top: int
) -> Callable[[object], dict[int, int]]:
    def parse(value: object) -> dict[int, int]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValueError(
                f"a mapping of {key_what} (0-{key_top}) to {value_what} (0-{value_top}) is"
                f" expected, not {type(value).__name__}"
            )
        out: dict[int, int] = {}
        for k, v in value.items():
            key = _code(k, key_top)
            if key is None:
                raise ValueError(f"key {k!r}: a {key_what} is an integer 0-{key_top}")
            mapped = _code(v, value_top)
            if mapped is None:
                raise ValueError(
                    f"{key_what} {key} -> {v!r}: a {value_what} is an integer 0-{value_top}"
                )
            out[key] = mapped
        return out

    return parse


PcpToDscp = Annotated[
    dict[int, int],
    BeforeValidator(_map_parser("PCP", PCP_MAX, "DSCP", DSCP_MAX)),
    Field(description="customer priority (PCP 0-7) -> outer DSCP (0-63), at most 8 entries"),
]
DscpToPcp = Annotated[
    dict[int, int],
    BeforeValidator(_map_parser("DSCP", DSCP_MAX, "PCP", PCP_MAX)),
    Field(description="outer DSCP (0-63) -> customer priority (PCP 0-7), at most 64 entries"),
]
Pcp = Annotated[int, Field(ge=0, le=PCP_MAX)]
