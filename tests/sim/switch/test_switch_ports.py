"""The switch loop with real ports: AF_PACKET sockets on veth pairs, pcap files, CPU port."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import time

import pytest

from p4sim.pipeline_api import Result
from p4sim.ports import InProcessPorts, PcapWriter, RawSocketPorts
from p4sim.state import RuntimeState
from p4sim.switch import Switch, pack_header, unpack_header
from tests.sim.p4sim_switch_support import device_config, fake_compiler, sample_p4info


class PortMapPipeline:
    """Forwards port 1 <-> port 2 (a stand-in for the engine)."""

    def build(self, program, state: RuntimeState):
        return self

    def process(self, port: int, data: bytes) -> Result:
        return Result(outputs=[({1: 2, 2: 1}.get(port, 511), data)])


def _switch(ports, **kw):
    info = sample_p4info()
    sw = Switch(ports=ports, compiler=fake_compiler(info), pipeline_factory=PortMapPipeline(), **kw)
    sw.set_pipeline(info, device_config(info))
    sw.start()
    return sw


def test_controller_header_packing_round_trip():
    fields = sample_p4info_fields()
    raw = pack_header(fields, {1: 0x1FF, 2: 0x05})
    assert raw == bytes([0xFF, 0x85])
    values, rest = unpack_header(fields, raw + b"payload")
    assert values == [0x1FF, 0x05] and rest == b"payload"
    assert unpack_header(fields, b"\x01") == (None, b"\x01")


def sample_p4info_fields():
    from p4sim.state import build_state

    return build_state(sample_p4info()).packet_in_fields


def test_in_process_ports_and_pcap(tmp_path):
    ports = InProcessPorts()
    sw = _switch(ports, pcap=PcapWriter(tmp_path))
    try:
        frame = bytes(range(60))
        ports.inject(1, frame)
        assert ports.receive(2) == frame
        assert ports.receive(1, timeout=0.2) is None
    finally:
        sw.stop()
    data = (tmp_path / "port2_out.pcap").read_bytes()
    magic, _, _, _, _, _, linktype = struct.unpack("<IHHiIII", data[:24])
    assert magic == 0xA1B2C3D4 and linktype == 1
    incl = struct.unpack("<IIII", data[24:40])[2]
    assert incl == 60 and data[40:100] == frame
    assert (tmp_path / "port1_in.pcap").exists()


def _raw(ifname: str) -> socket.socket:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # bound before it queues frames
    s.bind((ifname, 0x0003))
    s.settimeout(0.2)
    return s


def _recv_matching(s: socket.socket, marker: bytes, timeout: float = 3.0) -> bytes | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            frame, addr = s.recvfrom(65536)
        except TimeoutError:
            continue
        if addr[2] != 4 and marker in frame:  # not our own outgoing frame
            return frame
    return None


@pytest.mark.root
def test_frames_cross_veths_through_raw_socket_ports(make_network):
    net = make_network()
    p1, p2 = net.veth_pair(1), net.veth_pair(2)
    ports = RawSocketPorts({1: p1.switch_if, 2: p2.switch_if})
    sw = _switch(ports)
    t1, t2 = _raw(p1.test_if), _raw(p2.test_if)
    try:
        frame = bytes.fromhex("02000000000202000000000188b5") + b"p4sim-veth-test" + bytes(40)
        t1.send(frame)
        assert _recv_matching(t2, b"p4sim-veth-test") == frame
        # our own transmission on port 2 must not come back in as a frame received on port 2
        time.sleep(0.2)
        assert _recv_matching(t1, b"p4sim-veth-test", timeout=0.5) is None
    finally:
        t1.close()
        t2.close()
        sw.stop()


# Floods one interface with marked frames until killed (a separate process: no GIL in between).
_BLAST = """
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
s.bind((sys.argv[1], 0))
frame = bytes.fromhex("02000000000202000000000188b5") + b"other-interface" + bytes(40)
while True:
    s.send(frame)
"""


@pytest.mark.root
def test_a_port_never_receives_frames_of_another_interface(make_network):
    """A raw socket opened for every protocol queues frames from every interface until it is
    bound; a port must hold only frames of its own interface, even while others are busy."""
    net = make_network()
    mine, other = net.veth_pair(1), net.veth_pair(2)
    blaster = subprocess.Popen([sys.executable, "-c", _BLAST, other.test_if])
    leaked = 0
    try:
        time.sleep(0.2)
        for _ in range(200):
            ports = RawSocketPorts({1: mine.switch_if}, offloads_off=False)
            try:
                leaked += sum(b"other-interface" in f for f in ports.read_frames(1, 100_000))
            finally:
                ports.close()
    finally:
        blaster.kill()
        blaster.wait()
    assert leaked == 0
