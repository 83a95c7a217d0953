"""The limits PI (simple_switch_grpc's P4Runtime server) and bmv2 enforce, run against p4sim
and, when it is installed, the real simple_switch_grpc: the same requests, the same checks.

Where p4sim follows the P4Runtime specification rather than PI (see the limits table in
docs/p4sim-server.md), the expected codes differ per target and the test says so. Every
refusal is checked for its code and for leaving the switch as it was.
"""

from __future__ import annotations

import contextlib
import queue
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from finsy.proto import p4i, p4r
from google.protobuf import text_format

from p4sim.compiler import compile_source
from p4sim.device_config import make_device_config
from p4sim.ports import InProcessPorts
from p4sim.server import P4RuntimeServer
from p4sim.switch import Switch
from tests.sim.p4sim_switch_support import Client, update, write_errors

OK, UNKNOWN, INVALID_ARGUMENT, NOT_FOUND = 0, 2, 3, 5
RESOURCE_EXHAUSTED, OUT_OF_RANGE, UNIMPLEMENTED = 8, 11, 12
DEVICE = 1
FILENAME = "limits.p4"
SOURCE = """#include <core.p4>
#include <v1model.p4>
@controller_header("packet_in")
header packet_in_t { bit<9> ingress_port; bit<7> pad; }
@controller_header("packet_out")
header packet_out_t { bit<9> egress_port; bit<7> pad; }
header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
struct headers_t { packet_out_t po; eth_t eth; }
struct meta_t { }
struct learn_t { bit<48> src; bit<9> port; }
parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); transition accept; }
}
control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    direct_counter(CounterType.packets_and_bytes) dc;
    direct_meter<bit<2>>(MeterType.bytes) dm;
    counter(8, CounterType.packets_and_bytes) c;
    meter(4, MeterType.bytes) m;
    bit<2> color = 0;
    action fwd(bit<9> port) { sm.egress_spec = port; }
    action fwd_m(bit<9> port) { sm.egress_spec = port; dm.read(color); }
    action drop() { mark_to_drop(sm); }
    table t_exact {
        key = { hdr.eth.dst: exact; }
        actions = { fwd; drop; NoAction; }
        counters = dc;
        support_timeout = true;
        size = 4;
        default_action = NoAction();
    }
    table t_tern {
        key = { hdr.eth.type: ternary; }
        actions = { fwd_m; drop; }
        meters = dm;
        size = 16;
        default_action = drop();
    }
    table t_plain {
        key = { hdr.eth.src: exact; }
        actions = { fwd; drop; }
        size = 16;
        default_action = drop();
    }
    apply {
        t_exact.apply();
        t_tern.apply();
        t_plain.apply();
        c.count(0);
        m.execute_meter(32w0, color);
        digest<learn_t>(1, {hdr.eth.src, sm.ingress_port});
    }
}
control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.eth); } }
V1Switch(P(), VC(), I(), E(), CC(), D()) main;
"""

BMV2_MISSING = shutil.which("simple_switch_grpc") is None or shutil.which("p4c-bm2-ss") is None
TARGETS = [
    "p4sim",
    pytest.param("bmv2", marks=pytest.mark.skipif(BMV2_MISSING, reason="bmv2 not installed")),
]


@dataclass
class Target:
    name: str
    address: str
    p4info: p4i.P4Info
    device_config: bytes
    ids: dict[str, int]


def _ids(info: p4i.P4Info) -> dict[str, int]:
    kinds = ("tables", "actions", "counters", "direct_counters", "meters", "digests")
    return {e.preamble.name: e.preamble.id for k in kinds for e in getattr(info, k)}


def _p4sim() -> Iterator[Target]:
    info = compile_source(SOURCE, filename=FILENAME).p4info()
    config = make_device_config(SOURCE, FILENAME, info).to_bytes()
    sw = Switch(device_id=DEVICE, ports=InProcessPorts())
    sw.start()
    srv = P4RuntimeServer(sw, "127.0.0.1:0").start()
    try:
        yield Target("p4sim", srv.address, info, config, _ids(info))
    finally:
        srv.stop()
        sw.stop()


def _bmv2(work: Path) -> Iterator[Target]:
    (work / FILENAME).write_text(SOURCE)
    p4info_file, json_file = work / "limits.p4info.txtpb", work / "limits.json"
    subprocess.run(
        ["p4c-bm2-ss", "--arch", "v1model", "--p4runtime-files", str(p4info_file)]
        + ["-o", str(json_file), str(work / FILENAME)],
        check=True,
        capture_output=True,
    )
    info = text_format.Parse(p4info_file.read_text(), p4i.P4Info())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = ["simple_switch_grpc", "--no-p4", "--device-id", str(DEVICE), "--"]
    cmd += ["--grpc-server-addr", f"127.0.0.1:{port}", "--cpu-port", "255"]
    with open(work / "switch.log", "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (work / "switch.log").read_text(errors="replace")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "simple_switch_grpc did not listen"
                time.sleep(0.05)
        yield Target("bmv2", f"127.0.0.1:{port}", info, json_file.read_bytes(), _ids(info))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module", params=TARGETS)
def target(request: Any, tmp_path_factory: Any) -> Iterator[Target]:
    if request.param == "p4sim":
        yield from _p4sim()
    else:
        yield from _bmv2(tmp_path_factory.mktemp("bmv2"))


def hang_up(c: Client) -> None:
    """End the stream and wait until the server has ended it too (so it no longer counts)."""
    c.send(None)
    with contextlib.suppress(queue.Empty):
        while c.next(timeout=5) is not None:
            pass
    c.channel.close()


@pytest.fixture
def sw(target: Target) -> Iterator[Client]:
    c = Client(target.address, device_id=DEVICE).open()
    arb = c.next("arbitration")
    assert arb is not None and arb.arbitration.status.code == OK
    c.set_pipeline(target.p4info, target.device_config)
    yield c
    # bmv2 keeps its PRE across a new pipeline (PI forgets it): delete what the test made.
    made = c.read(pre_entity(mg(0)), pre_entity(cs(0)))
    if made:
        c.write(*[update("DELETE", ent.packet_replication_engine_entry) for ent in made])
    hang_up(c)


# -- helpers ---------------------------------------------------------------------------------------------
def mg(gid: int, *replicas: p4r.Replica) -> p4r.PacketReplicationEngineEntry:
    return p4r.PacketReplicationEngineEntry(
        multicast_group_entry=p4r.MulticastGroupEntry(multicast_group_id=gid, replicas=replicas)
    )


def cs(sid: int, *replicas: p4r.Replica) -> p4r.PacketReplicationEngineEntry:
    return p4r.PacketReplicationEngineEntry(
        clone_session_entry=p4r.CloneSessionEntry(session_id=sid, replicas=replicas)
    )


def pre_entity(e: p4r.PacketReplicationEngineEntry) -> p4r.Entity:
    return p4r.Entity(packet_replication_engine_entry=e)


def rep(port: int, rid: int = 0) -> p4r.Replica:
    return p4r.Replica(egress_port=port, instance=rid)


def pre_state(c: Client) -> list[tuple[str, int, list[tuple[int, int]]]]:
    """Every group and session with its replicas, port bytes or egress_port alike."""
    out = []
    for ent in c.read(pre_entity(mg(0)), pre_entity(cs(0))):
        e = ent.packet_replication_engine_entry
        kind = e.WhichOneof("type")
        m = getattr(e, kind)
        ident = m.multicast_group_id if kind == "multicast_group_entry" else m.session_id
        reps = sorted(
            (int.from_bytes(r.port, "big") if r.port else r.egress_port, r.instance)
            for r in m.replicas
        )
        out.append((kind, ident, reps))
    return sorted(out)


def write_codes(c: Client, *updates: p4r.Update) -> list[int]:
    """The canonical code of each update ([] when the whole Write succeeded)."""
    try:
        c.write(*updates)
    except grpc.RpcError as exc:
        return [e.canonical_code for e in write_errors(exc)]
    return []


def read_code(c: Client, *entities: p4r.Entity) -> int:
    try:
        c.read(*entities)
    except grpc.RpcError as exc:
        return int(exc.code().value[0])
    return OK


def exact(t: Target, table: str, key: int, action: str = "I.fwd", **kw: Any) -> p4r.TableEntry:
    te = p4r.TableEntry(table_id=t.ids[table], **kw)
    te.match.add(field_id=1).exact.value = key.to_bytes(6, "big")
    a = te.action.action
    a.action_id = t.ids[action]
    if action.startswith("I.fwd"):
        a.params.add(param_id=1, value=b"\x01")
    return te


def entries(c: Client, t: Target, table: str) -> list[p4r.Entity]:
    return c.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=t.ids[table])))


def default_of(c: Client, t: Target, table: str) -> p4r.TableEntry:
    [ent] = c.read(
        p4r.Entity(table_entry=p4r.TableEntry(table_id=t.ids[table], is_default_action=True))
    )
    return ent.table_entry


# -- streams -----------------------------------------------------------------------------------------------
def test_sixteen_streams_per_device_whatever_their_roles(target: Target, sw: Client) -> None:
    """pi_server.cpp: 16 connections per device, RESOURCE_EXHAUSTED "Too many connections"."""
    others: list[Client] = []
    try:
        for i in range(15):  # the fixture's primary is the first of the 16
            o = Client(target.address, DEVICE, election_id=1 + i, role=("", "a", "b")[i % 3])
            others.append(o.open())
            assert o.next("arbitration") is not None, o.stream_error
        extra = Client(target.address, DEVICE, election_id=99, role="c").open()
        assert extra.next() is None
        assert extra.stream_error is not None
        assert extra.stream_error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        extra.channel.close()
        sw.write(update("INSERT", exact(target, "I.t_plain", 1)))  # the primary is still primary
        assert len(entries(sw, target, "I.t_plain")) == 1
        hang_up(others.pop())
        again = Client(target.address, DEVICE, election_id=98, role="c").open()
        others.append(again)
        assert again.next("arbitration") is not None, again.stream_error
    finally:
        for o in others:
            hang_up(o)


# -- packet replication engine -------------------------------------------------------------------------------
FULL = {"p4sim": RESOURCE_EXHAUSTED, "bmv2": UNKNOWN}  # bmv2's TABLE_FULL reaches PI as UNKNOWN


def test_pre_holds_4096_groups_clone_sessions_included(target: Target, sw: Client) -> None:
    sw.write(*[update("INSERT", mg(g)) for g in range(1, 4096)])
    sw.write(update("INSERT", cs(1, rep(1))))  # PI programs the session as group 0x8001
    before = pre_state(sw)
    assert len(before) == 4096
    full = FULL[target.name]
    assert write_codes(sw, update("INSERT", mg(5000, rep(1)))) == [full]
    assert write_codes(sw, update("INSERT", cs(2, rep(1)))) == [full]
    assert pre_state(sw) == before
    sw.write(update("DELETE", mg(4095)))
    sw.write(update("INSERT", cs(2, rep(1))))


def test_pre_holds_4096_nodes_one_per_rid(target: Target, sw: Client) -> None:
    full = FULL[target.name]
    sw.write(update("INSERT", mg(1, *[rep(1, r) for r in range(4096)])))
    assert write_codes(sw, update("INSERT", mg(2, rep(1)))) == [full]
    assert write_codes(sw, update("INSERT", cs(3, rep(1)))) == [full]
    sw.write(update("INSERT", mg(2)), update("INSERT", cs(3)))  # no replica, no node
    # more ports on the same rids: no new node
    sw.write(update("MODIFY", mg(1, *[rep(p, r) for r in range(4096) for p in (1, 2)])))
    before = pre_state(sw)
    # PI makes a modify's new nodes before it frees the old ones: one new rid is one too many
    assert write_codes(sw, update("MODIFY", mg(1, *[rep(1, r) for r in range(1, 4097)]))) == [full]
    assert pre_state(sw) == before
    sw.write(update("MODIFY", mg(1, *[rep(1, r) for r in range(1, 4095)])))
    sw.write(update("MODIFY", mg(2, rep(1))), update("MODIFY", cs(3, rep(2))))


REPLICAS_PI_REFUSES = [
    ("port-bytes-0", p4r.Replica(port=b"\x00"), INVALID_ARGUMENT),  # "Port must be non-negative."
    ("port-bytes-empty", p4r.Replica(port=b""), INVALID_ARGUMENT),
    ("port-5-bytes", p4r.Replica(port=b"\x00\x00\x00\x00\x01"), UNIMPLEMENTED),
    ("port-bytes-2**31", p4r.Replica(port=b"\x80\x00\x00\x00"), INVALID_ARGUMENT),
    ("no-port", p4r.Replica(instance=1), INVALID_ARGUMENT),
]


@pytest.mark.parametrize(
    ("replica", "code"),
    [r[1:] for r in REPLICAS_PI_REFUSES],
    ids=[r[0] for r in REPLICAS_PI_REFUSES],
)
def test_replica_ports_pi_refuses(sw: Client, replica: p4r.Replica, code: int) -> None:
    sw.write(update("INSERT", mg(1, rep(2))))
    before = pre_state(sw)
    assert (
        write_codes(
            sw,
            update("INSERT", mg(2, replica)),
            update("MODIFY", mg(1, rep(3), replica)),
            update("INSERT", cs(4, replica)),
        )
        == [code] * 3
    )
    assert pre_state(sw) == before
    sw.write(update("INSERT", mg(2, rep(0))))  # port 0 as egress_port is fine


# p4sim is stricter than PI here: bmv2 keeps 9-bit ports (its port map has 512 bits: port 600
# is silently lost) and v1model's 16-bit egress_rid.
STRICTER = [
    ("port-512", rep(512), INVALID_ARGUMENT),
    ("instance-65536", rep(1, 1 << 16), INVALID_ARGUMENT),
]


@pytest.mark.parametrize(
    ("replica", "code"), [s[1:] for s in STRICTER], ids=[s[0] for s in STRICTER]
)
def test_replicas_p4sim_refuses_and_pi_accepts(
    target: Target, sw: Client, replica: p4r.Replica, code: int
) -> None:
    got = write_codes(sw, update("INSERT", mg(1, replica)))
    assert got == ([code] if target.name == "p4sim" else [])
    assert len(pre_state(sw)) == (0 if target.name == "p4sim" else 1)


# -- table entries -----------------------------------------------------------------------------------------
def test_time_since_last_hit_in_a_write(target: Target, sw: Client) -> None:
    te = exact(target, "I.t_exact", 1)
    te.time_since_last_hit.elapsed_ns = 5
    d = p4r.TableEntry(table_id=target.ids["I.t_exact"], is_default_action=True)
    d.time_since_last_hit.elapsed_ns = 5
    d.action.action.action_id = target.ids["I.drop"]
    assert write_codes(sw, update("INSERT", te), update("MODIFY", d)) == [INVALID_ARGUMENT] * 2
    assert entries(sw, target, "I.t_exact") == []
    assert default_of(sw, target, "I.t_exact").action.action.action_id == target.ids["NoAction"]


def test_default_entry_gets_the_entry_checks(target: Target, sw: Client) -> None:
    def drop_default(**kw: Any) -> p4r.Update:
        d = p4r.TableEntry(table_id=target.ids["I.t_plain"], is_default_action=True, **kw)
        d.action.action.action_id = target.ids["I.fwd"]
        d.action.action.params.add(param_id=1, value=b"\x01")
        return update("MODIFY", d)

    before = default_of(sw, target, "I.t_plain")
    assert (
        write_codes(
            sw,
            drop_default(counter_data=p4r.CounterData(packet_count=1)),  # no direct counter
            drop_default(idle_timeout_ns=-1),
            drop_default(idle_timeout_ns=10**9),  # no idle timeout support
        )
        == [INVALID_ARGUMENT] * 3
    )
    assert default_of(sw, target, "I.t_plain") == before


def test_meter_bursts_fit_32_bits(target: Target, sw: Client) -> None:
    def meter(**cfg: int) -> p4r.Update:
        return update(
            "MODIFY",
            p4r.MeterEntry(
                meter_id=target.ids["I.m"], index=p4r.Index(index=1), config=p4r.MeterConfig(**cfg)
            ),
        )

    tern = p4r.TableEntry(table_id=target.ids["I.t_tern"], priority=1)
    tern.match.add(field_id=1).ternary.CopyFrom(
        p4r.FieldMatch.Ternary(value=b"\x08\x00", mask=b"\xff\xff")
    )
    tern.action.action.action_id = target.ids["I.drop"]
    tern.meter_config.CopyFrom(p4r.MeterConfig(cir=1, cburst=2**32, pir=1, pburst=1))
    assert (
        write_codes(
            sw,
            meter(cir=1, cburst=2**32, pir=1, pburst=1),
            meter(cir=1, cburst=1, pir=1, pburst=2**32),
            update("INSERT", tern),
        )
        == [UNIMPLEMENTED] * 3
    )  # device_mgr.cpp validate_meter_spec: "CBurst too large"
    read_meter = p4r.Entity(
        meter_entry=p4r.MeterEntry(meter_id=target.ids["I.m"], index=p4r.Index(index=1))
    )
    [m] = sw.read(read_meter)
    assert not m.meter_entry.HasField("config")
    assert entries(sw, target, "I.t_tern") == []
    # 2**32 - 1 is accepted too, but PI reads it back as -1, its "unset" burst
    sw.write(meter(cir=1, cburst=2**32 - 2, pir=1, pburst=2**32 - 2))
    [m] = sw.read(read_meter)
    assert m.meter_entry.config.pburst == 2**32 - 2


# -- reads -------------------------------------------------------------------------------------------------
def test_time_since_last_hit_only_where_tables_age(target: Target, sw: Client) -> None:
    sw.write(update("INSERT", exact(target, "I.t_exact", 1, idle_timeout_ns=10**12)))
    ask = p4r.TableEntry.IdleTimeout()
    for req in (
        p4r.TableEntry(table_id=target.ids["I.t_plain"], time_since_last_hit=ask),
        p4r.TableEntry(time_since_last_hit=ask),  # every table, t_plain and t_tern included
        p4r.TableEntry(
            table_id=target.ids["I.t_exact"], is_default_action=True, time_since_last_hit=ask
        ),
    ):
        assert read_code(sw, p4r.Entity(table_entry=req)) == INVALID_ARGUMENT
    [e] = sw.read(
        p4r.Entity(
            table_entry=p4r.TableEntry(table_id=target.ids["I.t_exact"], time_since_last_hit=ask)
        )
    )
    assert e.table_entry.HasField("time_since_last_hit")


def test_reads_pi_refuses(target: Target, sw: Client) -> None:
    sw.write(update("INSERT", mg(1, rep(1))))
    assert read_code(sw, pre_entity(mg(0x8000))) == OUT_OF_RANGE  # device_mgr.cpp pre_mc_read
    assert read_code(sw, pre_entity(mg(2))) == NOT_FOUND
    assert read_code(sw, pre_entity(cs(40000))) == NOT_FOUND
    digest = p4r.DigestEntry(digest_id=target.ids["learn_t"])
    assert read_code(sw, p4r.Entity(digest_entry=digest)) == NOT_FOUND  # not configured
    plain = p4r.TableEntry(table_id=target.ids["I.t_plain"])
    assert (
        read_code(sw, p4r.Entity(direct_counter_entry=p4r.DirectCounterEntry(table_entry=plain)))
        == INVALID_ARGUMENT
    )


def test_existence_codes(target: Target, sw: Client) -> None:
    sw.write(update("INSERT", exact(target, "I.t_plain", 1)))
    before = entries(sw, target, "I.t_plain")
    default = p4r.TableEntry(table_id=target.ids["I.t_plain"], is_default_action=True)
    default.action.action.action_id = target.ids["I.drop"]
    assert write_codes(
        sw,
        update("INSERT", exact(target, "I.t_plain", 1)),
        update("MODIFY", exact(target, "I.t_plain", 2)),
        update("DELETE", exact(target, "I.t_plain", 2)),
        update("INSERT", default),
        update("DELETE", default),
    ) == [6, NOT_FOUND, NOT_FOUND, INVALID_ARGUMENT, INVALID_ARGUMENT]  # 6: ALREADY_EXISTS
    assert entries(sw, target, "I.t_plain") == before


def test_an_empty_write_succeeds(sw: Client) -> None:
    assert write_codes(sw) == []


# -- where p4sim follows the spec and PI does not -----------------------------------------------------------
def _too_wide(t: Target) -> p4r.Update:
    te = exact(t, "I.t_plain", 1)
    te.match[0].exact.value = b"\x01" + bytes(6)
    return update("INSERT", te)


def _empty_key(t: Target) -> p4r.Update:
    te = exact(t, "I.t_plain", 1)
    te.match[0].exact.value = b""
    return update("INSERT", te)


def _unknown_table(t: Target) -> p4r.Update:
    te = exact(t, "I.t_plain", 1)
    te.table_id = 0x02FFFFFF
    return update("INSERT", te)


def _counter(t: Target, index: int | None) -> p4r.Update:
    ce = p4r.CounterEntry(counter_id=t.ids["I.c"], data=p4r.CounterData(packet_count=3))
    if index is not None:
        ce.index.index = index
    return update("MODIFY", ce)


def _meter(t: Target, **cfg: int) -> p4r.Update:
    return update(
        "MODIFY",
        p4r.MeterEntry(
            meter_id=t.ids["I.m"], index=p4r.Index(index=0), config=p4r.MeterConfig(**cfg)
        ),
    )


def _counter_delete(t: Target) -> p4r.Update:
    return update("DELETE", p4r.CounterEntry(counter_id=t.ids["I.c"], index=p4r.Index(index=1)))


# (what, the update, code on p4sim, code on bmv2); a code of OK means accepted
SPEC_OVER_PI: list[tuple[str, Callable[[Target], p4r.Update], int, int]] = [
    ("key-too-wide", _too_wide, OUT_OF_RANGE, INVALID_ARGUMENT),
    ("key-empty", _empty_key, OUT_OF_RANGE, OK),
    ("unknown-table", _unknown_table, NOT_FOUND, INVALID_ARGUMENT),
    ("counter-index-8-of-8", lambda t: _counter(t, 8), OUT_OF_RANGE, UNKNOWN),
    ("counter-every-index", lambda t: _counter(t, None), OK, UNIMPLEMENTED),
    ("counter-delete", _counter_delete, INVALID_ARGUMENT, OK),  # PI zeroes the cell
    ("meter-pir-below-cir", lambda t: _meter(t, cir=10, cburst=1, pir=5, pburst=1), 3, UNKNOWN),
    ("meter-minus-one", lambda t: _meter(t, cir=-1, cburst=-1, pir=-1, pburst=-1), 3, OK),
    ("priority-on-exact", lambda t: update("INSERT", exact(t, "I.t_plain", 1, priority=-5)), 3, OK),
]


@pytest.mark.parametrize(
    ("make", "p4sim_code", "bmv2_code"),
    [s[1:] for s in SPEC_OVER_PI],
    ids=[s[0] for s in SPEC_OVER_PI],
)
def test_where_p4sim_follows_the_spec(
    target: Target,
    sw: Client,
    make: Callable[[Target], p4r.Update],
    p4sim_code: int,
    bmv2_code: int,
) -> None:
    code = p4sim_code if target.name == "p4sim" else bmv2_code
    counters = p4r.Entity(counter_entry=p4r.CounterEntry(counter_id=target.ids["I.c"]))
    before = (entries(sw, target, "I.t_plain"), sw.read(counters))
    got = write_codes(sw, make(target))
    assert got == ([] if code == OK else [code])
    if code != OK:
        assert (entries(sw, target, "I.t_plain"), sw.read(counters)) == before


def test_full_table(target: Target, sw: Client) -> None:
    sw.write(*[update("INSERT", exact(target, "I.t_exact", k)) for k in range(4)])
    code = RESOURCE_EXHAUSTED if target.name == "p4sim" else UNKNOWN
    assert write_codes(sw, update("INSERT", exact(target, "I.t_exact", 9))) == [code]
    assert len(entries(sw, target, "I.t_exact")) == 4


def test_direct_counter_of_a_missing_entry(target: Target, sw: Client) -> None:
    dce = p4r.DirectCounterEntry(
        table_entry=exact(target, "I.t_exact", 7), data=p4r.CounterData(packet_count=1)
    )
    code = NOT_FOUND if target.name == "p4sim" else INVALID_ARGUMENT  # the spec; PI
    assert write_codes(sw, update("MODIFY", dce)) == [code]
    assert read_code(sw, p4r.Entity(direct_counter_entry=dce)) == code
    assert entries(sw, target, "I.t_exact") == []


@pytest.mark.parametrize(
    ("options", "bmv2_code"),
    [({"class_of_service": 2}, UNIMPLEMENTED), ({"packet_length_bytes": 100}, UNKNOWN)],
    ids=["class-of-service", "truncation"],
)
def test_clone_session_options_bmv2_lacks(
    target: Target, sw: Client, options: dict[str, int], bmv2_code: int
) -> None:
    session = p4r.CloneSessionEntry(session_id=5, replicas=[rep(1)], **options)
    got = write_codes(
        sw, update("INSERT", p4r.PacketReplicationEngineEntry(clone_session_entry=session))
    )
    assert got == ([] if target.name == "p4sim" else [bmv2_code])
    assert len(pre_state(sw)) == (1 if target.name == "p4sim" else 0)


def test_wildcards_pi_does_not_implement(target: Target, sw: Client) -> None:
    every_digest = p4r.Entity(digest_entry=p4r.DigestEntry())
    every_direct_counter = p4r.Entity(
        direct_counter_entry=p4r.DirectCounterEntry(table_entry=p4r.TableEntry())
    )
    expected = OK if target.name == "p4sim" else UNIMPLEMENTED
    assert read_code(sw, every_digest) == expected
    assert read_code(sw, every_direct_counter) == expected
