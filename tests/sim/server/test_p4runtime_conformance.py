"""P4Runtime conformance of the p4sim server, over a real gRPC channel to a real server."""

from __future__ import annotations

import time

import grpc
import pytest
from finsy.proto import p4r

from p4sim.pipeline_api import Result
from p4sim.ports import InProcessPorts
from p4sim.server import P4RuntimeServer
from p4sim.state import RuntimeState
from p4sim.switch import Switch, unpack_header
from tests.sim.p4sim_switch_support import (
    A_DEFONLY,
    A_DROP,
    A_FWD,
    A_NOACTION,
    C_PORTS,
    D_LEARN,
    M_RATE,
    R_SEEN,
    T_CONST,
    T_EXACT,
    T_KEYLESS,
    T_LPM,
    T_TERN,
    Client,
    device_config,
    exact_entry,
    fake_compiler,
    lpm_entry,
    sample_p4info,
    update,
    write_errors,
)

CPU = 64
SAC = p4r.SetForwardingPipelineConfigRequest


class MiniPipeline:
    """A hand-written stand-in for the engine: exact lookup on the destination MAC."""

    def __init__(self, state: RuntimeState) -> None:
        self.t = state.table("ingress.t_exact")
        self.state = state

    def process(self, port: int, data: bytes) -> Result:
        if port == CPU:  # packet_out header: egress_port(9) + pad(7)
            values, payload = unpack_header(self.state.packet_out_fields, data)
            if values is None:  # too short for the header: dropped
                return Result()
            return Result(outputs=[(values[0], payload)])
        res = Result()
        aid, params, entry = self.t.lookup((int.from_bytes(data[0:6], "big"),))
        if entry is not None:
            entry.hit(len(data), time.monotonic_ns())
        if data[12:14] == b"\x99\x99":
            res.digests.append(
                (self.state.digest_id("learn_t"), (int.from_bytes(data[6:12], "big"), port))
            )
        if aid == A_FWD:
            res.outputs.append((params[0], data))
        else:  # to the CPU with packet_in(ingress_port, reason=3)
            res.outputs.append((CPU, bytes([port >> 1, ((port & 1) << 7) | 3]) + data))
        return res


class MiniFactory:
    def build(self, program, state):
        return MiniPipeline(state)


@pytest.fixture(scope="module")
def p4info():
    return sample_p4info()


@pytest.fixture(scope="module")
def env(p4info):
    ports = InProcessPorts()
    sw = Switch(
        device_id=1,
        cpu_port=CPU,
        ports=ports,
        compiler=fake_compiler(p4info),
        pipeline_factory=MiniFactory(),
    )
    sw.start()
    srv = P4RuntimeServer(sw, "127.0.0.1:0").start()
    yield srv, sw, ports
    srv.stop()
    sw.stop()


@pytest.fixture
def client(env, p4info):
    srv, _, _ = env
    c = Client(srv.address).open()
    arb = c.next("arbitration")
    assert arb.arbitration.status.code == 0
    c.set_pipeline(p4info, device_config(p4info))
    yield c
    c.close()
    time.sleep(0.05)  # let the server see the stream end before the next test arbitrates


def codes(exc: grpc.RpcError) -> list[int]:
    return [e.canonical_code for e in write_errors(exc)]


# -- capabilities and pipeline config ---------------------------------------------------------------------
def test_capabilities(env):
    c = Client(env[0].address)
    assert c.stub.Capabilities(p4r.CapabilitiesRequest()).p4runtime_api_version.startswith("1.")
    c.close()


def test_get_pipeline_config_every_response_type(client, p4info):
    client.set_pipeline(p4info, device_config(p4info), cookie=77)
    R = p4r.GetForwardingPipelineConfigRequest
    for rt, has_info, has_dev in (
        (R.ALL, True, True),
        (R.COOKIE_ONLY, False, False),
        (R.P4INFO_AND_COOKIE, True, False),
        (R.DEVICE_CONFIG_AND_COOKIE, False, True),
    ):
        cfg = client.stub.GetForwardingPipelineConfig(R(device_id=1, response_type=rt)).config
        assert cfg.cookie.cookie == 77
        assert (cfg.p4info == p4info) is has_info
        assert (cfg.p4_device_config == device_config(p4info)) is has_dev


def test_device_config_that_is_not_ours_is_rejected(client, p4info):
    for bad in (b"", b"\x7fELF....", b'{"format": "bmv2"}', b"import os; os.system('x')"):
        with pytest.raises(grpc.RpcError) as ei:
            client.set_pipeline(p4info, bad)
        assert ei.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "p4_device_config" in ei.value.details()


def test_device_config_that_does_not_compile(client, p4info):
    with pytest.raises(grpc.RpcError) as ei:
        client.set_pipeline(p4info, device_config(p4info, source="syntax error here"))
    assert ei.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "does not compile" in ei.value.details() and "1:1" in ei.value.details()


def test_p4info_that_does_not_match_the_program(client, p4info):
    other = type(p4info)()
    other.CopyFrom(p4info)
    other.tables[0].size = 99
    with pytest.raises(grpc.RpcError) as ei:
        client.set_pipeline(other, device_config(p4info))
    assert ei.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "ingress.t_exact" in ei.value.details()


def test_verify_save_commit(client, p4info):
    client.write(update("INSERT", exact_entry(1, 2)))
    client.set_pipeline(p4info, device_config(p4info), action=SAC.VERIFY)
    assert len(client.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=T_EXACT)))) == 1
    client.set_pipeline(p4info, device_config(p4info), action=SAC.VERIFY_AND_SAVE, cookie=5)
    assert len(client.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=T_EXACT)))) == 1
    client.set_pipeline(p4info, b"", action=SAC.COMMIT)
    assert client.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=T_EXACT))) == []
    with pytest.raises(grpc.RpcError) as ei:
        client.set_pipeline(p4info, b"", action=SAC.COMMIT)
    assert ei.value.code() == grpc.StatusCode.NOT_FOUND


def test_reconcile_keeps_entries(client, p4info):
    client.write(update("INSERT", exact_entry(1, 2)))
    client.set_pipeline(p4info, device_config(p4info), action=SAC.RECONCILE_AND_COMMIT)
    assert len(client.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=T_EXACT)))) == 1


# -- arbitration ----------------------------------------------------------------------------------------------
def test_arbitration_primary_backup_and_no_promotion(env, client):
    srv = env[0]
    low = Client(srv.address, election_id=1).open()
    arb = low.next("arbitration").arbitration
    assert arb.status.code == 6  # ALREADY_EXISTS: a backup, told who is primary
    assert arb.election_id.low == client.election_id
    with pytest.raises(grpc.RpcError) as ei:
        low.write(update("INSERT", exact_entry(1, 2)))
    assert ei.value.code() == grpc.StatusCode.PERMISSION_DENIED
    client.close()
    arb = low.next("arbitration").arbitration
    assert arb.status.code == 5  # NOT_FOUND: no primary, and no promotion of the lower id
    high = Client(srv.address, election_id=client.election_id + 1).open()
    assert high.next("arbitration").arbitration.status.code == 0
    assert low.next("arbitration").arbitration.status.code == 6
    high.close()
    low.close()


def test_duplicate_election_id_ends_the_stream(env, client):
    dup = Client(env[0].address, election_id=client.election_id).open()
    assert dup.next() is None
    assert dup.stream_error.code() == grpc.StatusCode.INVALID_ARGUMENT
    dup.close()


def test_wrong_device_id(env, client):
    other = Client(env[0].address, device_id=42).open()
    assert other.next() is None
    assert other.stream_error.code() == grpc.StatusCode.NOT_FOUND
    other.close()
    with pytest.raises(grpc.RpcError) as ei:
        client.stub.Write(p4r.WriteRequest(device_id=42))
    assert ei.value.code() == grpc.StatusCode.NOT_FOUND


def test_roles_arbitrate_separately(env, client):
    other = Client(env[0].address, election_id=1, role="tor").open()
    assert other.next("arbitration").arbitration.status.code == 0
    other.write(update("INSERT", exact_entry(9, 1)))
    other.close()


# -- Write: table entries ----------------------------------------------------------------------------------------
def test_insert_read_modify_delete(client):
    client.write(update("INSERT", exact_entry(0x0A0000000001, 3)))
    [ent] = client.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=T_EXACT)))
    te = ent.table_entry
    assert te.match[0].exact.value == bytes.fromhex("0a0000000001")
    assert te.action.action.params[0].value == b"\x03"  # canonical: shortest form
    client.write(update("MODIFY", exact_entry(0x0A0000000001, 300)))
    [ent] = client.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=T_EXACT)))
    assert ent.table_entry.action.action.params[0].value == b"\x01\x2c"
    client.write(update("DELETE", exact_entry(0x0A0000000001, 0)))
    assert client.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=T_EXACT))) == []


def test_batch_errors_laid_out_per_update(client):
    with pytest.raises(grpc.RpcError) as ei:
        client.write(
            update("INSERT", exact_entry(1, 1)),
            update("INSERT", exact_entry(1, 1)),
            update("DELETE", exact_entry(2, 1)),
            update("INSERT", exact_entry(3, 1)),
        )
    assert ei.value.code() == grpc.StatusCode.UNKNOWN
    assert codes(ei.value) == [0, 6, 5, 0]  # OK, ALREADY_EXISTS, NOT_FOUND, OK
    assert len(client.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=T_EXACT)))) == 2


def test_table_full(client):
    with pytest.raises(grpc.RpcError) as ei:
        client.write(*[update("INSERT", exact_entry(i, 1)) for i in range(1, 7)])
    assert codes(ei.value) == [0, 0, 0, 0, 8, 8]  # size 4, then RESOURCE_EXHAUSTED


@pytest.mark.parametrize(
    "mutate, code",
    [
        (lambda te: setattr(te.match[0].exact, "value", b""), 11),  # empty bytestring: OUT_OF_RANGE
        (
            lambda te: setattr(te.match[0].exact, "value", b"\x01" * 7),
            11,
        ),  # 56 bits in a 48-bit field
        (lambda te: setattr(te.match[0], "field_id", 9), 3),
        (lambda te: setattr(te.action.action, "action_id", 0x01999999), 3),
        (
            lambda te: setattr(te.action.action, "action_id", A_NOACTION),
            7,
        ),  # @defaultonly: PERMISSION_DENIED
        (lambda te: te.action.action.params.add(param_id=2, value=b"\x01"), 3),
        (lambda te: te.action.action.ClearField("params"), 3),
        (lambda te: setattr(te, "priority", 5), 3),  # priority on an exact table
        (lambda te: setattr(te, "is_const", True), 3),
        (lambda te: setattr(te, "table_id", 0x02777777), 5),
        (lambda te: te.ClearField("match"), 3),  # exact field missing
    ],
)
def test_table_entry_validation(client, mutate, code):
    te = exact_entry(1, 1)
    mutate(te)
    with pytest.raises(grpc.RpcError) as ei:
        client.write(update("INSERT", te))
    assert codes(ei.value) == [code]


def test_leading_zero_bytes_are_accepted_and_read_back_canonical(client):
    te = exact_entry(5, 1)
    te.match[0].exact.value = b"\x00" * 10 + b"\x05"
    client.write(update("INSERT", te))
    [ent] = client.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=T_EXACT)))
    assert ent.table_entry.match[0].exact.value == b"\x05"


def test_lpm_rules(client):
    client.write(update("INSERT", lpm_entry(1, 0x0A000000, 8)))
    with pytest.raises(grpc.RpcError) as ei:
        client.write(
            update("INSERT", lpm_entry(1, 0x0A000001, 8)),  # host bits set below the prefix
            update("INSERT", lpm_entry(1, 0x0A000000, 33)),
            update("INSERT", lpm_entry(1, 0, 0)),
        )
    assert codes(ei.value) == [3, 3, 3]
    te = lpm_entry(1, 0, 8)
    te.action.action.action_id = A_DEFONLY
    with pytest.raises(grpc.RpcError) as ei:
        client.write(update("INSERT", te))
    assert codes(ei.value) == [7]


def _tern(
    value: int, mask: int, priority: int, lo: int | None = None, hi: int | None = None
) -> p4r.TableEntry:
    te = p4r.TableEntry(table_id=T_TERN, priority=priority)
    fm = te.match.add(field_id=1)
    fm.ternary.value, fm.ternary.mask = bytes([value]), bytes([mask])
    if lo is not None:
        assert hi is not None, "a range needs both ends"
        fm = te.match.add(field_id=2)
        fm.range.low, fm.range.high = lo.to_bytes(2, "big"), hi.to_bytes(2, "big")
    te.action.action.action_id = A_DROP
    return te


def test_ternary_and_range_rules(client):
    with pytest.raises(grpc.RpcError) as ei:
        client.write(
            update("INSERT", _tern(0x11, 0xF0, 10)),  # value outside mask
            update("INSERT", _tern(0x10, 0xF0, 0)),  # priority required
            update("INSERT", _tern(0x10, 0xF0, 10, 5, 4)),  # low > high
            update("INSERT", _tern(0x10, 0xF0, 10, 0, 0xFFFF)),  # full range must be omitted
            update("INSERT", _tern(0x10, 0xF0, 10, 5, 9)),
            update("INSERT", _tern(0x10, 0xF0, 10, 5, 9)),
            update("INSERT", _tern(0x10, 0xF0, 11, 5, 9)),
        )  # same match, other priority: a new entry
    assert codes(ei.value) == [3, 3, 3, 3, 0, 6, 0]
    ents = client.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=T_TERN)))
    assert sorted(e.table_entry.priority for e in ents) == [10, 11]


def test_default_entry(client):
    te = p4r.TableEntry(table_id=T_EXACT, is_default_action=True)
    te.action.action.action_id = A_DROP
    client.write(update("MODIFY", te))
    [ent] = client.read(
        p4r.Entity(table_entry=p4r.TableEntry(table_id=T_EXACT, is_default_action=True))
    )
    assert ent.table_entry.action.action.action_id == A_DROP
    client.write(
        update("MODIFY", p4r.TableEntry(table_id=T_EXACT, is_default_action=True))
    )  # reset
    [ent] = client.read(
        p4r.Entity(table_entry=p4r.TableEntry(table_id=T_EXACT, is_default_action=True))
    )
    assert ent.table_entry.action.action.action_id == A_NOACTION
    with pytest.raises(grpc.RpcError) as ei:
        client.write(update("INSERT", te), update("DELETE", te))
    assert codes(ei.value) == [3, 3]
    const_default = p4r.TableEntry(table_id=T_CONST, is_default_action=True)
    const_default.action.action.action_id = A_FWD
    const_default.action.action.params.add(param_id=1, value=b"\x01")
    with pytest.raises(grpc.RpcError) as ei:
        client.write(update("MODIFY", const_default))
    assert codes(ei.value) == [7]
    [ent] = client.read(
        p4r.Entity(table_entry=p4r.TableEntry(table_id=T_KEYLESS, is_default_action=True))
    )
    assert ent.table_entry.action.action.params[0].value == b"\x05"


def test_const_table_is_read_only(client):
    te = p4r.TableEntry(table_id=T_CONST)
    te.match.add(field_id=1).exact.value = b"\x01"
    te.action.action.action_id = A_NOACTION
    with pytest.raises(grpc.RpcError) as ei:
        client.write(update("INSERT", te))
    assert codes(ei.value) == [7]


def test_rollback_on_error(client):
    with pytest.raises(grpc.RpcError) as ei:
        client.write(
            update("INSERT", exact_entry(1, 1)),
            update("INSERT", exact_entry(1, 1)),
            atomicity=p4r.WriteRequest.ROLLBACK_ON_ERROR,
        )
    assert codes(ei.value) == [10, 6]  # ABORTED (rolled back), ALREADY_EXISTS
    assert client.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=T_EXACT))) == []
    client.write(update("INSERT", exact_entry(1, 1)), atomicity=p4r.WriteRequest.DATAPLANE_ATOMIC)
    assert len(client.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=T_EXACT)))) == 1


def test_large_batch_and_chunked_read(env, client, p4info, monkeypatch):
    big = type(p4info)()
    big.CopyFrom(p4info)
    big.tables[2].size = 20000
    client_ = client
    # a pipeline whose ternary table can hold 20,000 entries (a fake front end that compiles to it)
    monkeypatch.setattr(env[1], "compiler", fake_compiler(big))
    from tests.sim.p4sim_switch_support import device_config as dc

    client_.set_pipeline(big, dc(big, source="big"))
    client_.write(*[update("INSERT", _tern(i & 0xF0, 0xF0, i + 1)) for i in range(20000)])
    ents = client_.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=T_TERN)))
    assert len(ents) == 20000
    monkeypatch.setattr("p4sim.server.service.READ_CHUNK", 64 * 1024)
    req = p4r.ReadRequest(
        device_id=1, entities=[p4r.Entity(table_entry=p4r.TableEntry(table_id=T_TERN))]
    )
    sizes = [len(r.entities) for r in client_.stub.Read(req)]
    assert len(sizes) > 1 and sum(sizes) == 20000


def test_read_error_in_a_later_entity_comes_before_any_chunk(env, client, p4info, monkeypatch):
    """Chunks are streamed as they are encoded, but a bad entity anywhere in the request is
    reported before the first chunk: the client gets the error and no entities."""
    big = type(p4info)()
    big.CopyFrom(p4info)
    big.tables[2].size = 5000
    monkeypatch.setattr(env[1], "compiler", fake_compiler(big))
    from tests.sim.p4sim_switch_support import device_config as dc

    client.set_pipeline(big, dc(big, source="big-read"))
    client.write(*[update("INSERT", _tern(i & 0xF0, 0xF0, i + 1)) for i in range(5000)])
    monkeypatch.setattr("p4sim.server.service.READ_CHUNK", 16 * 1024)
    good = p4r.Entity(table_entry=p4r.TableEntry(table_id=T_TERN))
    bad = p4r.Entity(table_entry=p4r.TableEntry(table_id=0x02FFFFFF))
    got = []
    with pytest.raises(grpc.RpcError) as ei:
        for resp in client.stub.Read(p4r.ReadRequest(device_id=1, entities=[good, good, bad])):
            got.extend(resp.entities)
    assert ei.value.code() == grpc.StatusCode.NOT_FOUND
    assert got == []
    sizes = [
        len(r.entities)
        for r in client.stub.Read(p4r.ReadRequest(device_id=1, entities=[good, good]))
    ]
    assert len(sizes) > 2 and sum(sizes) == 10000


def test_write_before_pipeline_is_failed_precondition(p4info):
    sw = Switch(compiler=fake_compiler(p4info), pipeline_factory=MiniFactory())
    srv = P4RuntimeServer(sw, "127.0.0.1:0").start()
    try:
        c = Client(srv.address)
        c.election_id = (
            None  # no stream, no election id: accepted as PI does, until a pipeline is missing
        )
        with pytest.raises(grpc.RpcError) as ei:
            c.write(update("INSERT", exact_entry(1, 1)))
        assert ei.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        with pytest.raises(grpc.RpcError) as ei:
            c.read(p4r.Entity(table_entry=p4r.TableEntry()))
        assert ei.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        c.close()
    finally:
        srv.stop()


# -- other entities ------------------------------------------------------------------------------------------------
def test_counters_meters_registers(client):
    ce = p4r.CounterEntry(
        counter_id=C_PORTS,
        index=p4r.Index(index=3),
        data=p4r.CounterData(packet_count=7, byte_count=700),
    )
    client.write(update("MODIFY", ce))
    ents = client.read(p4r.Entity(counter_entry=p4r.CounterEntry(counter_id=C_PORTS)))
    assert len(ents) == 8 and ents[3].counter_entry.data.byte_count == 700
    with pytest.raises(grpc.RpcError) as ei:
        client.write(
            update("MODIFY", p4r.CounterEntry(counter_id=C_PORTS, index=p4r.Index(index=8))),
            update("INSERT", ce),
            update(
                "MODIFY",
                p4r.MeterEntry(
                    meter_id=M_RATE,
                    index=p4r.Index(index=0),
                    config=p4r.MeterConfig(cir=10, cburst=1, pir=5, pburst=1),
                ),
            ),
        )
    assert codes(ei.value) == [11, 3, 3]
    cfg = p4r.MeterConfig(cir=10, cburst=2, pir=20, pburst=4)
    client.write(
        update("MODIFY", p4r.MeterEntry(meter_id=M_RATE, index=p4r.Index(index=1), config=cfg))
    )
    [m] = client.read(
        p4r.Entity(meter_entry=p4r.MeterEntry(meter_id=M_RATE, index=p4r.Index(index=1)))
    )
    assert m.meter_entry.config == cfg
    reg = p4r.RegisterEntry(register_id=R_SEEN, index=p4r.Index(index=2))
    reg.data.bitstring = b"\x0f\xff"
    client.write(update("MODIFY", reg))
    [r] = client.read(
        p4r.Entity(register_entry=p4r.RegisterEntry(register_id=R_SEEN, index=p4r.Index(index=2)))
    )
    assert r.register_entry.data.bitstring == b"\x0f\xff"
    reg.data.bitstring = b"\x10\x00"  # 13 bits into a 12-bit register
    with pytest.raises(grpc.RpcError) as ei:
        client.write(update("MODIFY", reg))
    assert codes(ei.value) == [11]


def test_pre_entries(client):
    mg = p4r.MulticastGroupEntry(
        multicast_group_id=5,
        replicas=[p4r.Replica(port=b"\x01", instance=1), p4r.Replica(egress_port=2, instance=1)],
    )
    pre = p4r.PacketReplicationEngineEntry(multicast_group_entry=mg)
    client.write(update("INSERT", pre))
    [ent] = client.read(
        p4r.Entity(
            packet_replication_engine_entry=p4r.PacketReplicationEngineEntry(
                multicast_group_entry=p4r.MulticastGroupEntry()
            )
        )
    )
    got = ent.packet_replication_engine_entry.multicast_group_entry
    assert [(r.port, r.instance) for r in got.replicas] == [(b"\x01", 1), (b"\x02", 1)]
    cs = p4r.PacketReplicationEngineEntry(
        clone_session_entry=p4r.CloneSessionEntry(
            session_id=9, replicas=[p4r.Replica(port=b"\x03")], packet_length_bytes=64
        )
    )
    dup = p4r.PacketReplicationEngineEntry(
        multicast_group_entry=p4r.MulticastGroupEntry(
            multicast_group_id=6, replicas=[p4r.Replica(port=b"\x01"), p4r.Replica(port=b"\x01")]
        )
    )
    with pytest.raises(grpc.RpcError) as ei:
        client.write(
            update("INSERT", cs),
            update("INSERT", pre),
            update("INSERT", dup),
            update(
                "DELETE",
                p4r.PacketReplicationEngineEntry(
                    clone_session_entry=p4r.CloneSessionEntry(session_id=10)
                ),
            ),
        )
    assert codes(ei.value) == [0, 6, 3, 5]


def test_direct_counter_reads(env, client):
    _, _sw, ports = env
    client.write(update("INSERT", exact_entry(0x0200000000AA, 2)))
    frame = bytes.fromhex("0200000000aa") + bytes(6) + b"\x08\x00" + bytes(50)
    ports.inject(1, frame)
    assert ports.receive(2) == frame
    req = exact_entry(0x0200000000AA, 0)
    req.ClearField("action")
    [d] = client.read(p4r.Entity(direct_counter_entry=p4r.DirectCounterEntry(table_entry=req)))
    assert (d.direct_counter_entry.data.packet_count, d.direct_counter_entry.data.byte_count) == (
        1,
        len(frame),
    )
    te = p4r.TableEntry(table_id=T_EXACT, counter_data=p4r.CounterData())
    [e] = client.read(p4r.Entity(table_entry=te))
    assert e.table_entry.counter_data.packet_count == 1


# -- stream: packet I/O, digests, idle timeout ------------------------------------------------------------------------
def test_packet_in_and_out(env, client):
    _, _sw, ports = env
    frame = bytes.fromhex("02000000ffff") + bytes(6) + b"\x08\x00" + b"hello"
    ports.inject(7, frame)
    pin = client.next("packet").packet
    assert pin.payload == frame
    assert {m.metadata_id: m.value for m in pin.metadata} == {1: b"\x07", 2: b"\x03"}
    out = p4r.PacketOut(
        payload=b"\x01\x02\x03", metadata=[p4r.PacketMetadata(metadata_id=1, value=b"\x01\x05")]
    )
    client.send(p4r.StreamMessageRequest(packet=out))
    assert ports.receive(261) == b"\x01\x02\x03"
    bad = p4r.PacketOut(payload=b"x", metadata=[p4r.PacketMetadata(metadata_id=9, value=b"\x01")])
    client.send(p4r.StreamMessageRequest(packet=bad))
    err = client.next("error").error
    assert err.canonical_code == 3 and err.packet_out.packet_out == bad


def test_digest_needs_config_then_batches_and_acks(env, client):
    _, _sw, ports = env
    learn = bytes.fromhex("02000000ffff0a0b0c0d0e0f") + b"\x99\x99"
    ports.inject(3, learn)
    client.next("packet")  # the miss goes to the CPU; no digest without DigestEntry config
    cfg = p4r.DigestEntry(
        digest_id=D_LEARN,
        config=p4r.DigestEntry.Config(max_timeout_ns=0, max_list_size=1, ack_timeout_ns=10**10),
    )
    client.write(update("INSERT", cfg))
    ports.inject(3, learn)
    dl = client.next("digest").digest
    assert dl.digest_id == D_LEARN
    [data] = dl.data
    assert [m.bitstring for m in data.struct.members] == [bytes.fromhex("0a0b0c0d0e0f"), b"\x03"]
    ports.inject(3, learn)  # same data while unacked: suppressed
    ports.inject(3, learn[:6] + bytes.fromhex("0a0b0c0d0e10") + b"\x99\x99")
    dl2 = client.next("digest").digest
    assert dl2.data[0].struct.members[0].bitstring == bytes.fromhex("0a0b0c0d0e10")
    client.send(
        p4r.StreamMessageRequest(
            digest_ack=p4r.DigestListAck(digest_id=D_LEARN, list_id=dl.list_id)
        )
    )
    time.sleep(0.1)
    ports.inject(3, learn)  # acked: may be reported again
    assert client.next("digest").digest.data[0].struct.members[0].bitstring == bytes.fromhex(
        "0a0b0c0d0e0f"
    )


def test_idle_timeout_notification(env, client):
    te = exact_entry(0x0200000000BB, 2, idle_timeout_ns=100_000_000)
    client.write(update("INSERT", te))
    t0 = time.monotonic()
    note = client.next("idle_timeout_notification").idle_timeout_notification
    assert time.monotonic() - t0 >= 0.08
    [got] = note.table_entry
    assert got.match == te.match and got.idle_timeout_ns == 100_000_000
    notrack = p4r.TableEntry(table_id=T_LPM, idle_timeout_ns=5)
    with pytest.raises(grpc.RpcError) as ei:
        lp = lpm_entry(1, 0x0A000000, 8)
        lp.idle_timeout_ns = 5
        client.write(update("INSERT", lp))
    assert codes(ei.value) == [3]
    del notrack


def test_oversized_request_is_refused_and_server_lives(env, client):
    ch = grpc.insecure_channel(
        env[0].address, options=[("grpc.max_send_message_length", 300 * 1024 * 1024)]
    )
    call = ch.unary_unary(
        "/p4.v1.P4Runtime/Write", request_serializer=None, response_deserializer=None
    )
    with pytest.raises(grpc.RpcError) as ei:
        call(b"\x22" + b"\x80\x80\x80\x81\x01" + bytes(257 * 1024 * 1024), timeout=30)
    assert ei.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    ch.close()
    assert client.stub.Capabilities(p4r.CapabilitiesRequest()).p4runtime_api_version


def test_malformed_request_bytes_do_not_crash(env, client):
    raw = env[0].address
    ch = grpc.insecure_channel(raw)
    call = ch.unary_unary(
        "/p4.v1.P4Runtime/Write", request_serializer=None, response_deserializer=None
    )
    with pytest.raises(grpc.RpcError):
        call(b"\xff\xff\xff\xff\x0f\x01", timeout=5)
    ch.close()
    assert client.stub.Capabilities(p4r.CapabilitiesRequest()).p4runtime_api_version


@pytest.mark.parametrize(
    ("entry", "code"),
    [
        (p4r.MulticastGroupEntry(multicast_group_id=0), 3),  # INVALID_ARGUMENT, as PI
        (p4r.MulticastGroupEntry(multicast_group_id=0x8000), 11),  # OUT_OF_RANGE: PI's clones
        (p4r.MulticastGroupEntry(multicast_group_id=0x8000 | 7), 11),
        (p4r.MulticastGroupEntry(multicast_group_id=0xFFFF), 11),
        (p4r.CloneSessionEntry(session_id=0), 3),
        (p4r.CloneSessionEntry(session_id=0x8000), 3),  # PI: "Clone session id out-of-range"
    ],
    ids=["group-0", "group-0x8000", "group-0x8007", "group-0xffff", "session-0", "session-32768"],
)
def test_pre_ids_outside_pis_ranges_are_refused_as_pi_does(client, entry, code):
    kind = (
        "multicast_group_entry"
        if isinstance(entry, p4r.MulticastGroupEntry)
        else "clone_session_entry"
    )
    pre = p4r.PacketReplicationEngineEntry(**{kind: entry})
    with pytest.raises(grpc.RpcError) as ei:
        client.write(update("INSERT", pre))
    assert codes(ei.value) == [code]


def test_pre_ids_at_the_edges_of_pis_ranges_are_accepted(client):
    client.write(
        update(
            "INSERT",
            p4r.PacketReplicationEngineEntry(
                multicast_group_entry=p4r.MulticastGroupEntry(multicast_group_id=0x7FFF)
            ),
        ),
        update(
            "INSERT",
            p4r.PacketReplicationEngineEntry(
                clone_session_entry=p4r.CloneSessionEntry(session_id=0x7FFF)
            ),
        ),
    )


def test_wildcard_read_with_a_match_or_action_filter_is_invalid(client):
    """Spec 9.1: match fields and actions belong to one table; a read over all tables
    (table_id 0) that filters on them is INVALID_ARGUMENT, not silently unfiltered. PI's
    simple_switch_grpc aborts on this request; a priority filter stays valid."""
    client.write(update("INSERT", exact_entry(0x0A0000000001, 3)))
    with_match = p4r.TableEntry(table_id=0)
    with_match.match.add(field_id=1, exact=p4r.FieldMatch.Exact(value=b"\x01"))
    with_action = p4r.TableEntry(table_id=0)
    with_action.action.action.action_id = A_FWD
    for te in (with_match, with_action):
        with pytest.raises(grpc.RpcError) as ei:
            client.read(p4r.Entity(table_entry=te))
        assert ei.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    everything = client.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=0)))
    assert any(e.table_entry.table_id == T_EXACT for e in everything)


def test_write_with_an_unknown_role_is_not_found(client):
    req = client._stamp(p4r.WriteRequest())
    req.role = "no-such-role"
    req.updates.append(update("INSERT", exact_entry(7, 1)))
    with pytest.raises(grpc.RpcError) as ei:
        client.stub.Write(req, timeout=30)
    assert ei.value.code() == grpc.StatusCode.NOT_FOUND
    assert "no-such-role" in (ei.value.details() or "")
    assert client.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=T_EXACT))) == []


def test_packet_out_with_an_over_wide_metadata_value_is_an_invalid_argument(env, client):
    bad = p4r.PacketOut(
        payload=b"x", metadata=[p4r.PacketMetadata(metadata_id=1, value=b"\xff\xff\xff")]
    )
    client.send(p4r.StreamMessageRequest(packet=bad))
    err = client.next("error").error
    assert err.canonical_code == 3 and "does not fit" in err.message
    assert err.packet_out.packet_out == bad
