"""Shared by the p4sim state, server and switch tests: a hand-built P4Info and a gRPC client.

The P4Info stands for a small v1model program (written by hand until the front end can
compile test snippets); ids are arbitrary but distinct, prefixed like p4c's.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from finsy.proto import p4i, p4r, p4r_grpc, rpc_status

from p4sim.device_config import make_device_config

T_EXACT, T_LPM, T_TERN, T_CONST, T_KEYLESS = (
    0x02000001,
    0x02000002,
    0x02000003,
    0x02000004,
    0x02000005,
)
A_FWD, A_DROP, A_NOACTION, A_SET_NHOP, A_DEFONLY = (
    0x01000001,
    0x01000002,
    0x01000003,
    0x01000004,
    0x01000005,
)
C_PORTS, DC_EXACT, M_RATE, DM_LPM, R_SEEN, D_LEARN = (
    0x12000001,
    0x13000001,
    0x14000001,
    0x15000001,
    0x16000001,
    0x17000001,
)
PKT_IN, PKT_OUT = 0x04000001, 0x04000002


def _action(aid: int, name: str, params: list[tuple[str, int]]) -> Any:
    a = p4i.Action()
    a.preamble.id, a.preamble.name, a.preamble.alias = aid, name, name.rsplit(".", maxsplit=1)[-1]
    for i, (pname, width) in enumerate(params, 1):
        a.params.add(id=i, name=pname, bitwidth=width)
    return a


def _table(
    tid: int,
    name: str,
    fields: list[tuple[str, int, int]],
    actions: list[tuple[int, int]],
    size: int = 16,
) -> Any:
    t = p4i.Table(size=size)
    t.preamble.id, t.preamble.name, t.preamble.alias = tid, name, name.rsplit(".", maxsplit=1)[-1]
    for i, (fname, width, mt) in enumerate(fields, 1):
        t.match_fields.add(id=i, name=fname, bitwidth=width, match_type=mt)
    for aid, scope in actions:
        t.action_refs.add(id=aid, scope=scope)
    return t


def sample_p4info() -> Any:
    M = p4i.MatchField
    info = p4i.P4Info()
    info.pkg_info.arch = "v1model"
    info.actions.extend(
        [
            _action(A_FWD, "ingress.fwd", [("port", 9)]),
            _action(A_DROP, "ingress.drop", []),
            _action(A_NOACTION, "NoAction", []),
            _action(A_SET_NHOP, "ingress.set_nhop", [("nhop", 16), ("mac", 48)]),
            _action(A_DEFONLY, "ingress.miss", []),
        ]
    )
    t = _table(
        T_EXACT,
        "ingress.t_exact",
        [("hdr.ethernet.dst_addr", 48, M.EXACT)],
        [(A_FWD, 0), (A_DROP, 0), (A_NOACTION, 2)],
        size=4,
    )
    t.initial_default_action.action_id = A_NOACTION
    t.direct_resource_ids.append(DC_EXACT)
    t.idle_timeout_behavior = p4i.Table.NOTIFY_CONTROL
    info.tables.append(t)
    t = _table(
        T_LPM,
        "ingress.t_lpm",
        [("meta.vrf", 8, M.EXACT), ("hdr.ipv4.dst_addr", 32, M.LPM)],
        [(A_SET_NHOP, 1), (A_DROP, 0), (A_DEFONLY, 2)],
    )
    t.initial_default_action.action_id = A_DROP
    t.direct_resource_ids.append(DM_LPM)
    info.tables.append(t)
    t = _table(
        T_TERN,
        "ingress.t_tern",
        [
            ("hdr.ipv4.protocol", 8, M.TERNARY),
            ("meta.l4_dst", 16, M.RANGE),
            ("meta.flag", 1, M.OPTIONAL),
        ],
        [(A_FWD, 0), (A_DROP, 0), (A_NOACTION, 0)],
    )
    info.tables.append(t)
    t = _table(T_CONST, "ingress.t_const", [("meta.x", 8, M.EXACT)], [(A_FWD, 0), (A_NOACTION, 0)])
    t.is_const_table = True
    t.const_default_action_id = A_NOACTION
    t.initial_default_action.action_id = A_NOACTION
    info.tables.append(t)
    t = _table(T_KEYLESS, "ingress.t_keyless", [], [(A_FWD, 0), (A_DROP, 0)])
    t.initial_default_action.action_id = A_FWD
    t.initial_default_action.arguments.add(param_id=1, value=b"\x05")
    info.tables.append(t)
    c = info.counters.add(size=8)
    c.preamble.id, c.preamble.name = C_PORTS, "ingress.port_counter"
    c.spec.unit = p4i.CounterSpec.BOTH
    dc = info.direct_counters.add(direct_table_id=T_EXACT)
    dc.preamble.id, dc.preamble.name = DC_EXACT, "ingress.exact_counter"
    dc.spec.unit = p4i.CounterSpec.BOTH
    m = info.meters.add(size=4)
    m.preamble.id, m.preamble.name = M_RATE, "ingress.rate"
    m.spec.unit = p4i.MeterSpec.PACKETS
    dm = info.direct_meters.add(direct_table_id=T_LPM)
    dm.preamble.id, dm.preamble.name = DM_LPM, "ingress.lpm_meter"
    dm.spec.unit = p4i.MeterSpec.BYTES
    r = info.registers.add(size=8)
    r.preamble.id, r.preamble.name = R_SEEN, "ingress.seen"
    r.type_spec.bitstring.bit.bitwidth = 12
    d = info.digests.add()
    d.preamble.id, d.preamble.name = D_LEARN, "learn_t"
    d.type_spec.struct.name = "learn_t"
    learn = info.type_info.structs["learn_t"]
    learn.members.add(name="src_addr").type_spec.bitstring.bit.bitwidth = 48
    learn.members.add(name="port").type_spec.bitstring.bit.bitwidth = 9
    cpm = info.controller_packet_metadata.add()
    cpm.preamble.id, cpm.preamble.name = PKT_IN, "packet_in"
    cpm.metadata.add(id=1, name="ingress_port", bitwidth=9)
    cpm.metadata.add(id=2, name="reason", bitwidth=7)
    cpm = info.controller_packet_metadata.add()
    cpm.preamble.id, cpm.preamble.name = PKT_OUT, "packet_out"
    cpm.metadata.add(id=1, name="egress_port", bitwidth=9)
    cpm.metadata.add(id=2, name="_pad", bitwidth=7)
    for kind in (
        "counters",
        "direct_counters",
        "meters",
        "direct_meters",
        "registers",
        "digests",
        "controller_packet_metadata",
    ):
        for e in getattr(info, kind):
            e.preamble.alias = e.preamble.name.split(".")[-1]
    return info


@dataclass
class FakeProgram:
    """What the front end's Program offers the switch: its P4Info."""

    info: p4i.P4Info
    source: str

    def p4info(self) -> p4i.P4Info:
        return self.info


SOURCE = "// stands for the preprocessed source of the sample program\n"


def fake_compiler(p4info: Any) -> Callable[[str, str], FakeProgram]:
    def compile_(source: str, filename: str) -> FakeProgram:
        if "syntax error" in source:
            raise ValueError(f"{filename}:1:1: error: syntax error")
        return FakeProgram(p4info, source)

    return compile_


def device_config(p4info: Any, source: str = SOURCE) -> bytes:
    return make_device_config(source, "sample.p4", p4info).to_bytes()


# -- a small real gRPC client ------------------------------------------------------------------------------
_election = itertools.count(1000, 1000)


class Client:
    """A P4Runtime client over a real channel: a stream, arbitration, and unary calls."""

    def __init__(
        self, address: str, device_id: int = 1, election_id: int | None = None, role: str = ""
    ) -> None:
        self.channel = grpc.insecure_channel(address)
        self.stub = p4r_grpc.P4RuntimeStub(self.channel)
        self.device_id = device_id
        self.election_id = next(_election) if election_id is None else election_id
        self.role = role
        self._requests: queue.Queue[Any] = queue.Queue()
        self.responses: queue.Queue[Any] = queue.Queue()
        self.stream_error: grpc.RpcError | None = None
        self._stream: Iterator[p4r.StreamMessageResponse] | None = None

    def open(self, arbitrate: bool = True) -> Client:
        def gen() -> Iterator[Any]:
            while True:
                item = self._requests.get()
                if item is None:
                    return
                yield item

        stream = self._stream = self.stub.StreamChannel(gen())

        def pump() -> None:
            try:
                for resp in stream:
                    self.responses.put(resp)
            except grpc.RpcError as exc:
                self.stream_error = exc
            finally:
                self.responses.put(None)

        threading.Thread(target=pump, daemon=True).start()
        if arbitrate:
            self.arbitrate(self.election_id)
        return self

    def arbitrate(self, election_id: int | None) -> None:
        upd = p4r.MasterArbitrationUpdate(device_id=self.device_id)
        if election_id is not None:
            upd.election_id.high, upd.election_id.low = election_id >> 64, election_id & (2**64 - 1)
        if self.role:
            upd.role.name = self.role
        self.send(p4r.StreamMessageRequest(arbitration=upd))

    def send(self, msg: Any) -> None:
        self._requests.put(msg)

    def next(self, kind: str | None = None, timeout: float = 3.0) -> Any:
        """The next stream response (of ``kind``, skipping others); None when the stream ended."""
        while True:
            resp = self.responses.get(timeout=timeout)
            if resp is None or kind is None or resp.WhichOneof("update") == kind:
                return resp

    def _stamp(self, req: Any) -> Any:
        req.device_id = self.device_id
        if self.election_id is not None:
            req.election_id.high, req.election_id.low = (
                self.election_id >> 64,
                self.election_id & (2**64 - 1),
            )
        if self.role:
            req.role = self.role
        return req

    def set_pipeline(
        self,
        p4info: Any,
        config: bytes,
        action: p4r.SetForwardingPipelineConfigRequest.Action.ValueType = (
            p4r.SetForwardingPipelineConfigRequest.VERIFY_AND_COMMIT
        ),
        cookie: int | None = None,
    ) -> Any:
        req = self._stamp(p4r.SetForwardingPipelineConfigRequest(action=action))
        req.config.p4info.CopyFrom(p4info)
        req.config.p4_device_config = config
        if cookie is not None:
            req.config.cookie.cookie = cookie
        return self.stub.SetForwardingPipelineConfig(req, timeout=10)

    def write(
        self,
        *updates: Any,
        atomicity: p4r.WriteRequest.Atomicity.ValueType = p4r.WriteRequest.CONTINUE_ON_ERROR,
    ) -> Any:
        req = self._stamp(p4r.WriteRequest(atomicity=atomicity))
        req.updates.extend(updates)
        return self.stub.Write(req, timeout=30)

    def read(self, *entities: Any) -> list[Any]:
        req = p4r.ReadRequest(device_id=self.device_id, entities=list(entities))
        out: list[Any] = []
        for resp in self.stub.Read(req, timeout=30):
            out.extend(resp.entities)
        return out

    def close(self) -> None:
        self._requests.put(None)
        self.channel.close()


def write_errors(exc: grpc.RpcError) -> list[Any]:
    """The p4.v1.Error list of a failed Write (from grpc-status-details-bin)."""
    for md in exc.trailing_metadata() or ():
        if md.key == "grpc-status-details-bin":
            st = rpc_status.Status.FromString(md.value)
            errs = []
            for d in st.details:
                e = p4r.Error()
                assert d.Unpack(e)
                errs.append(e)
            return errs
    raise AssertionError("no grpc-status-details-bin in the trailers")


def update(kind: str, entity: Any) -> Any:
    u = p4r.Update(type=getattr(p4r.Update, kind))
    getattr(u.entity, _entity_field(entity)).CopyFrom(entity)
    return u


def _entity_field(entity: Any) -> str:
    names = {
        "TableEntry": "table_entry",
        "CounterEntry": "counter_entry",
        "DirectCounterEntry": "direct_counter_entry",
        "MeterEntry": "meter_entry",
        "DirectMeterEntry": "direct_meter_entry",
        "RegisterEntry": "register_entry",
        "PacketReplicationEngineEntry": "packet_replication_engine_entry",
        "DigestEntry": "digest_entry",
    }
    return names[entity.DESCRIPTOR.name]


def exact_entry(mac: int, port: int, **kw: Any) -> Any:
    te = p4r.TableEntry(table_id=T_EXACT, **kw)
    te.match.add(field_id=1).exact.value = mac.to_bytes(6, "big")
    a = te.action.action
    a.action_id = A_FWD
    a.params.add(param_id=1, value=port.to_bytes(2, "big"))
    return te


def lpm_entry(vrf: int, prefix: int, plen: int, nhop: int = 1, mac: int = 0xAA) -> Any:
    te = p4r.TableEntry(table_id=T_LPM)
    te.match.add(field_id=1).exact.value = bytes([vrf])
    fm = te.match.add(field_id=2)
    fm.lpm.value = prefix.to_bytes(4, "big")
    fm.lpm.prefix_len = plen
    a = te.action.action
    a.action_id = A_SET_NHOP
    a.params.add(param_id=1, value=nhop.to_bytes(2, "big"))
    a.params.add(param_id=2, value=mac.to_bytes(6, "big"))
    return te


@contextmanager
def engine_switch(ports: Any) -> Iterator[tuple[Any, Client]]:
    """A p4sim Switch with the real compiler and engine on ``ports``, served over P4Runtime
    on loopback, and a client that has won arbitration; all stopped on exit."""
    from p4sim.server import P4RuntimeServer
    from p4sim.switch import Switch

    sw = Switch(device_id=1, ports=ports)
    sw.start()
    srv = P4RuntimeServer(sw, "127.0.0.1:0").start()
    client = Client(srv.address).open()
    try:
        assert client.next("arbitration").arbitration.status.code == 0
        yield sw, client
    finally:
        client.close()
        srv.stop()
        sw.stop()
