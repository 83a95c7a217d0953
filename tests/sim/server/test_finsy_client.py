"""An unmodified third-party P4Runtime client (finsy) drives the p4sim server."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import finsy as fy
from google.protobuf import text_format

from p4sim.pipeline_api import DropPipelineFactory
from p4sim.server import P4RuntimeServer
from p4sim.switch import Switch
from tests.sim.p4sim_switch_support import device_config, fake_compiler, sample_p4info


def test_finsy_pushes_pipeline_writes_reads_deletes(tmp_path: Path) -> None:
    info = sample_p4info()
    p4info_path = tmp_path / "sample.p4info.txtpb"
    p4info_path.write_text(text_format.MessageToString(info))
    blob = tmp_path / "sample.p4sim.json"
    blob.write_bytes(device_config(info))
    sw = Switch(compiler=fake_compiler(info), pipeline_factory=DropPipelineFactory())
    srv = P4RuntimeServer(sw, "127.0.0.1:0").start()
    seen: dict[str, list[Any]] = {}
    done = asyncio.Event()

    async def ready(switch: fy.Switch) -> None:
        entry = fy.P4TableEntry(
            "ingress.t_exact",
            match=fy.P4TableMatch({"hdr.ethernet.dst_addr": 0x0A0000000001}),
            action=fy.P4TableAction("ingress.fwd", port=3),
        )
        await switch.insert([entry])
        seen["entries"] = [
            e
            async for e in switch.read(fy.P4TableEntry("ingress.t_exact"))  # type: ignore[attr-defined]  # finsy types read() as a coroutine; it is an async generator
        ]
        await switch.modify(
            [
                fy.P4CounterEntry(
                    "ingress.port_counter",
                    index=2,
                    data=fy.P4CounterData(packet_count=4, byte_count=400),
                )
            ]
        )
        seen["counter"] = [
            c
            async for c in switch.read(fy.P4CounterEntry("ingress.port_counter", index=2))  # type: ignore[attr-defined]  # finsy types read() as a coroutine
        ]
        await switch.delete([entry])
        seen["after"] = [
            e
            async for e in switch.read(fy.P4TableEntry("ingress.t_exact"))  # type: ignore[attr-defined]  # finsy types read() as a coroutine
        ]
        done.set()

    async def main() -> None:
        opts = fy.SwitchOptions(p4info=p4info_path, p4blob=blob, ready_handler=ready)
        task = asyncio.create_task(fy.Switch("sw1", srv.address, opts).run())
        try:
            await asyncio.wait_for(done.wait(), timeout=20)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    try:
        asyncio.run(main())
    finally:
        srv.stop()
    [got] = seen["entries"]
    assert got.table_id == "t_exact"  # finsy reports aliases
    assert got.action.name == "fwd" and got.action.args == {"port": 3}
    [c] = seen["counter"]
    assert (c.data.packet_count, c.data.byte_count) == (4, 400)
    assert seen["after"] == []
