"""p4sim P4Runtime Write throughput (updates/s) for batches of 1, 100 and 10,000 table entries.

A p4sim switch runs as its own process on loopback with the NVGRE program in the large
profile (-D NVE_PROFILE_LARGE), pushed over P4Runtime. The client arbitrates as primary
and INSERTs `NveIngress.l2.dmac` entries (vsi, mac) -> to_tunnel(tunnel) over real gRPC,
each Write awaited before the next (as a controller must). Requests are built and
serialised before the clock starts, so the figure is the switch's (decode, validate,
apply, answer) plus the gRPC round trip, not the client's protobuf building; the switch's
own CPU time per update is shown beside it. Every Write must succeed, and the table is
read back at the end: a benchmark that silently measured failures would be worthless.
`--quick` (or NVE_BENCH_QUICK=1) runs smaller sizes.
"""

from __future__ import annotations

import queue
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import grpc
from finsy.proto import p4r, p4r_grpc

from bench._p4sim import P4simProcess, compile_large, quick
from lab.targets import PipelineFiles
from nve.p4info import P4Index, encode_int, load_p4info
from nve.p4names import Action, Table

DEVICE_ID = 0  # p4sim --no-p4 without --device-id, as simple_switch_grpc
ELECTION_ID = 10
TABLE = Table.L2_DMAC
ACTION = Action.L2_TO_TUNNEL
GRPC_OPTIONS = [
    ("grpc.max_send_message_length", 256 * 1024 * 1024),
    ("grpc.max_receive_message_length", 256 * 1024 * 1024),
]


@dataclass(frozen=True)
class Run:
    batch: int
    entries: int


def runs() -> list[Run]:
    if quick():
        return [Run(1, 300), Run(100, 3_000), Run(10_000, 20_000)]
    return [Run(1, 3_000), Run(100, 30_000), Run(10_000, 100_000)]


class Primary:
    """A synchronous P4Runtime client holding primary arbitration for one device."""

    def __init__(self, address: str):
        self.channel = grpc.insecure_channel(address, options=GRPC_OPTIONS)
        self.stub = p4r_grpc.P4RuntimeStub(self.channel)
        self._requests: queue.Queue[p4r.StreamMessageRequest | None] = queue.Queue()
        self._requests.put(
            p4r.StreamMessageRequest(
                arbitration=p4r.MasterArbitrationUpdate(
                    device_id=DEVICE_ID, election_id=p4r.Uint128(low=ELECTION_ID)
                )
            )
        )
        self._stream = self.stub.StreamChannel(iter(self._requests.get, None))
        first = next(self._stream)
        if first.arbitration.status.code != 0:
            raise RuntimeError(f"not primary: {first.arbitration.status}")
        # Writes with pre-serialised requests: the clock then sees no client-side encoding.
        self.write_raw: grpc.UnaryUnaryMultiCallable[bytes, p4r.WriteResponse] = (
            self.channel.unary_unary(
                "/p4.v1.P4Runtime/Write",
                request_serializer=None,
                response_deserializer=p4r.WriteResponse.FromString,
            )
        )

    def push(self, compiled: PipelineFiles) -> P4Index:
        info = load_p4info(compiled.p4info)
        self.stub.SetForwardingPipelineConfig(
            p4r.SetForwardingPipelineConfigRequest(
                device_id=DEVICE_ID,
                election_id=p4r.Uint128(low=ELECTION_ID),
                action=p4r.SetForwardingPipelineConfigRequest.VERIFY_AND_COMMIT,
                config=p4r.ForwardingPipelineConfig(
                    p4info=info, p4_device_config=compiled.device_config.read_bytes()
                ),
            )
        )
        return P4Index(info)

    def count(self, table_id: int) -> int:
        req = p4r.ReadRequest(
            device_id=DEVICE_ID,
            entities=[p4r.Entity(table_entry=p4r.TableEntry(table_id=table_id))],
        )
        return sum(len(resp.entities) for resp in self.stub.Read(req))

    def close(self) -> None:
        self._requests.put(None)
        self._stream.cancel()
        self.channel.close()


def write_requests(index: P4Index, first_mac: int, n: int, batch: int) -> list[bytes]:
    """Serialised WriteRequests inserting n dmac entries, `batch` updates each."""
    table, action = index.table(TABLE), index.action(ACTION)
    f_vsi, f_mac = index.match_field(table, "vsi"), index.match_field(table, "mac")
    p_tunnel = index.param(action, "tunnel")
    out = []
    for start in range(0, n, batch):
        req = p4r.WriteRequest(
            device_id=DEVICE_ID,
            election_id=p4r.Uint128(low=ELECTION_ID),
            atomicity=p4r.WriteRequest.CONTINUE_ON_ERROR,
        )
        for i in range(start, min(n, start + batch)):
            mac = first_mac + i
            te = req.updates.add(type=p4r.Update.INSERT).entity.table_entry
            te.table_id = table.id
            te.match.add(field_id=f_vsi.id).exact.value = encode_int(1 + i % 1000, f_vsi.bitwidth)
            te.match.add(field_id=f_mac.id).exact.value = encode_int(mac, f_mac.bitwidth)
            act = te.action.action
            act.action_id = action.id
            act.params.add(param_id=p_tunnel.id, value=encode_int(1 + i % 4000, p_tunnel.bitwidth))
        out.append(req.SerializeToString())
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, P4simProcess() as switch:
        compiled = compile_large(Path(tmp))
        client = Primary(switch.address)
        try:
            index = client.push(compiled)
            table_id = index.table(TABLE).id
            installed = 0
            print(
                f"{'batch':>7} {'entries':>8} {'writes':>7} {'seconds':>8} {'updates/s':>10} {'switch CPU us/update':>21}"
            )
            for n, run in enumerate(runs()):
                requests = write_requests(
                    index, 0x525400000000 + n * 0x1000000, run.entries, run.batch
                )
                cpu0 = switch.stats().cpu_s
                t0 = time.perf_counter()
                for data in requests:
                    client.write_raw(data)  # raises on any failed update
                elapsed = time.perf_counter() - t0
                cpu = switch.stats().cpu_s - cpu0
                installed += run.entries
                print(
                    f"{run.batch:>7} {run.entries:>8} {len(requests):>7} {elapsed:>8.2f} "
                    f"{run.entries / elapsed:>10,.0f} {cpu / run.entries * 1e6:>21.1f}"
                )
            got = client.count(table_id)
            if got != installed:
                raise SystemExit(f"read back {got} entries of {TABLE}, expected {installed}")
            print(f"read back {got} entries; switch peak RSS {switch.stats().peak_rss_mb:.0f} MB")
        finally:
            client.close()


if __name__ == "__main__":
    main()
