"""pytest fixtures for tests that need real interfaces.

- ``test_network`` (session): a :class:`~lab.netns.LabNetwork`; everything it creates
  is removed at the end of the session, also on failure, Ctrl-C or SIGTERM.
- ``make_network`` (function): a LabNetwork of the test's own, removed after the test.
- ``ptf_dataplane_for``: opens a PTF dataplane on given veth test ends; ``PtfTest`` handles
  come from its ``.test()``.

Tests that need root and the tools carry ``@pytest.mark.root``; where they cannot run, they
are skipped with one line that says what is missing.
"""

from __future__ import annotations

import atexit
from collections.abc import Callable, Iterator

import pytest

from lab.netns import (
    LabNetwork,
    VethPair,
    can_create_interfaces,
    install_termination_handler,
    sweep_stale_ledgers,
)
from nve_ptf.adapter import PtfDataplane


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("nvgre-nve")
    group.addoption(
        "--target",
        choices=["p4sim", "bmv2"],
        default="p4sim",
        help="switch target for the PTF suite (default: p4sim)",
    )


def pytest_configure(config: pytest.Config) -> None:
    install_termination_handler()


def pytest_sessionstart(session: pytest.Session) -> None:
    if can_create_interfaces() is None:
        sweep_stale_ledgers()
    if session.config.getoption("target") == "bmv2":
        from lab.targets import bmv2_missing

        missing = bmv2_missing()
        if missing:
            # One line instead of one skip per test: the whole bmv2 run cannot happen here.
            pytest.exit(f"bmv2 target unavailable, nothing run: {missing}", returncode=0)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("root") is not None:
        why = can_create_interfaces()
        if why is not None:
            pytest.skip(f"real-interface test skipped: {why}")


@pytest.fixture(scope="session")
def test_network() -> Iterator[LabNetwork]:
    why = can_create_interfaces()
    if why is not None:
        pytest.skip(f"real-interface test skipped: {why}")
    net = LabNetwork()
    atexit.register(net.close)  # covers an interpreter exit that skips fixture teardown
    try:
        yield net
    finally:
        net.close()


@pytest.fixture
def make_network() -> Iterator[Callable[[], LabNetwork]]:
    why = can_create_interfaces()
    if why is not None:
        pytest.skip(f"real-interface test skipped: {why}")
    made: list[LabNetwork] = []

    def factory() -> LabNetwork:
        net = LabNetwork()
        made.append(net)
        return net

    try:
        yield factory
    finally:
        for net in made:
            net.close()


@pytest.fixture
def ptf_dataplane_for() -> Iterator[Callable[[list[VethPair]], PtfDataplane]]:
    """Open a PTF dataplane on the test ends of the given pairs (device 0, the pairs' port numbers)."""
    opened: list[PtfDataplane] = []

    def open_(pairs: list[VethPair], device: int = 0) -> PtfDataplane:
        dp = PtfDataplane({(device, p.port): p.test_if for p in pairs})
        opened.append(dp)
        return dp

    try:
        yield open_
    finally:
        for dp in opened:
            dp.close()
