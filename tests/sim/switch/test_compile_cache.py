"""The compiler child's cache of compiled programs stays within its size in bytes."""

from __future__ import annotations

import pytest

from p4sim.sandbox_compiler import ChildCompiler, CompileLimits
from tests.sim.switch.untrusted_support import MINI

pytestmark = pytest.mark.slow


def test_the_cache_is_bounded_in_bytes_and_keeps_the_latest():
    compiler = ChildCompiler(CompileLimits(cache_mib=50_000 / 1024 / 1024))  # ~ two programs
    programs = [MINI.replace("size = 64", f"size = {64 + i}") for i in range(4)]
    for source in programs:
        compiler.compile(source, "mini.p4")
        assert compiler.cache_bytes <= 50_000
    assert compiler.cached == 2
    latest = compiler.compile(programs[-1], "mini.p4")
    assert compiler.compile(programs[-1], "mini.p4") is latest  # a hit: no new child


def test_a_program_bigger_than_the_cache_is_not_kept():
    compiler = ChildCompiler(CompileLimits(cache_mib=1000 / 1024 / 1024))
    compiler.compile(MINI, "mini.p4")
    assert compiler.cached == 0
    assert compiler.cache_bytes == 0
