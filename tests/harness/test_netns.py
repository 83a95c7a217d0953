"""The real-interface harness itself: frames cross veth pairs, and nothing outlives a run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from scapy.layers.inet import ICMP, IP
from scapy.layers.l2 import Ether

from lab import netns
from lab.netns import LabNetwork, link_exists, list_namespaces

pytestmark = pytest.mark.root

REPO = Path(__file__).resolve().parents[2]


def _frame(tag: int) -> bytes:
    # Locally administered MACs; an IPv4 payload that identifies this frame.
    return bytes(
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
        / IP(src="192.0.2.1", dst="192.0.2.2", id=tag)
        / ICMP()
        / f"harness-{tag}".encode()
    )


def test_frame_crosses_a_veth_pair(make_network, ptf_dataplane_for) -> None:
    from ptf import testutils

    net = make_network()
    pair = net.veth_pair(port=0)
    # Both ends of one pair as PTF ports 0 (test end) and 1 (switch end).
    dp = ptf_dataplane_for([pair, netns.VethPair(1, pair.test_if, pair.switch_if)])
    test = dp.test()
    frame = _frame(7)
    testutils.send_packet(test, 0, frame)
    testutils.verify_packet(test, frame, 1)
    testutils.verify_no_other_packets(test)


def test_verify_packet_fails_when_the_frame_differs(make_network, ptf_dataplane_for) -> None:
    from ptf import testutils

    from nve_ptf.adapter import PtfFailure

    net = make_network()
    pair = net.veth_pair(port=0)
    dp = ptf_dataplane_for([pair, netns.VethPair(1, pair.test_if, pair.switch_if)])
    test = dp.test()
    testutils.send_packet(test, 0, _frame(1))
    with pytest.raises(PtfFailure):
        testutils.verify_packet(test, _frame(2), 1, timeout=0.5)


def test_mask_ignores_dont_care_fields(make_network, ptf_dataplane_for) -> None:
    from ptf import testutils
    from ptf.mask import Mask

    net = make_network()
    pair = net.veth_pair(port=0)
    dp = ptf_dataplane_for([pair, netns.VethPair(1, pair.test_if, pair.switch_if)])
    test = dp.test()
    sent = Ether(_frame(3))
    expected = sent.copy()
    expected[IP].id = 999  # differs from what is sent ...
    mask = Mask(expected)
    mask.set_do_not_care_packet(IP, "id")  # ... but is declared don't-care
    mask.set_do_not_care_packet(IP, "chksum")
    testutils.send_packet(test, 0, sent)
    testutils.verify_packet(test, mask, 1)


def test_namespace_end_reaches_root_end(make_network) -> None:
    """A pair with one end in a namespace carries IP traffic (ping) both ways."""
    net = make_network()
    ns = net.namespace("host")
    pair = net.veth_pair(port=0, test_ns=ns)
    subprocess.run(["ip", "addr", "add", "198.51.100.1/30", "dev", pair.switch_if], check=True)
    subprocess.run(
        ["ip", "netns", "exec", ns, "ip", "addr", "add", "198.51.100.2/30", "dev", pair.test_if],
        check=True,
    )
    ping = subprocess.run(
        ["ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "2", "198.51.100.1"],
        check=False,
        capture_output=True,
        text=True,
    )
    assert ping.returncode == 0, ping.stdout + ping.stderr


def test_offloads_are_off_and_ipv6_silenced(make_network) -> None:
    net = make_network()
    pair = net.veth_pair(port=0)
    features = subprocess.run(
        ["ethtool", "-k", pair.switch_if], capture_output=True, text=True, check=True
    ).stdout
    assert "tx-checksumming: off" in features
    assert "rx-checksumming: off" in features
    assert Path(f"/proc/sys/net/ipv6/conf/{pair.switch_if}/disable_ipv6").read_text().strip() == "1"


def test_close_removes_everything() -> None:
    net = LabNetwork()
    ns = net.namespace("gone")
    a = net.veth_pair(port=0)
    b = net.veth_pair(port=1, test_ns=ns)
    assert link_exists(a.switch_if) and link_exists(b.test_if, ns)
    net.close()
    assert not link_exists(a.switch_if) and not link_exists(a.test_if)
    assert not link_exists(b.switch_if)
    assert ns not in list_namespaces()
    assert not net._ledger.path.exists()


def _child(script: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO / "ptf_tests"))
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)], stdout=subprocess.PIPE, text=True, env=env
    )


_CREATE_AND_WAIT = """
    import json, sys, time
    from lab.netns import LabNetwork, install_termination_handler
    install_termination_handler()
    with LabNetwork() as net:
        ns = net.namespace("child")
        pair = net.veth_pair(port=0, test_ns=ns)
        print(json.dumps([pair.switch_if, ns]), flush=True)
        time.sleep(60)
"""


def test_sigterm_cleans_up() -> None:
    child = _child(_CREATE_AND_WAIT)
    assert child.stdout is not None
    link, ns = json.loads(child.stdout.readline())
    assert link_exists(link) and ns in list_namespaces()
    child.send_signal(signal.SIGTERM)
    child.wait(timeout=30)
    assert not link_exists(link)
    assert ns not in list_namespaces()


def test_stale_ledger_of_killed_run_is_swept() -> None:
    child = _child(_CREATE_AND_WAIT)
    assert child.stdout is not None
    link, ns = json.loads(child.stdout.readline())
    child.kill()  # SIGKILL: no chance to clean up
    child.wait(timeout=30)
    assert link_exists(link), "SIGKILL should have left the interface behind"
    assert (netns.LEDGER_DIR / f"{child.pid}.json").exists()
    removed = netns.sweep_stale_ledgers()
    assert link in removed and ns in removed
    assert not link_exists(link)
    assert ns not in list_namespaces()
