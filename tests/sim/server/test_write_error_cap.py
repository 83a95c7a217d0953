"""The p4.v1.Error list of a failed Write: one per update, messages capped in bytes."""

from __future__ import annotations

from finsy.proto import p4r

from p4sim.server.errors import ALREADY_EXISTS, INVALID_ARGUMENT, P4RuntimeError
from p4sim.server.write import (
    CUT_MARKER,
    MAX_ERROR_MESSAGE,
    capped_message,
    write_failure_status,
)


def test_short_message_is_kept_whole() -> None:
    text = "x" * MAX_ERROR_MESSAGE
    assert capped_message(text) == text


def test_long_message_is_cut_to_the_cap_with_a_marker() -> None:
    cut = capped_message("table ingress.hosts: " + "é" * 500)  # 2-byte characters
    assert cut.startswith("table ingress.hosts: é")
    assert cut.endswith(CUT_MARKER)
    assert MAX_ERROR_MESSAGE - 1 <= len(cut.encode()) <= MAX_ERROR_MESSAGE  # never half a character


def test_one_error_per_update_ok_ones_included() -> None:
    errors = [None, P4RuntimeError(ALREADY_EXISTS, "exists"), None]
    errors.append(P4RuntimeError(INVALID_ARGUMENT, "bad " * 100))
    status = write_failure_status(errors)
    decoded = []
    for detail in status.details:
        err = p4r.Error()
        assert detail.Unpack(err)
        decoded.append((err.canonical_code, err.message))
    assert [code for code, _ in decoded] == [0, ALREADY_EXISTS, 0, INVALID_ARGUMENT]
    assert decoded[1][1] == "exists"
    assert len(decoded[3][1].encode()) <= MAX_ERROR_MESSAGE and decoded[3][1].endswith(CUT_MARKER)
    assert all(d.value == b"" for d in (status.details[0], status.details[2]))  # OK: ~35 bytes
