"""nve apply: 100,000 CA->PA mappings installed into p4sim (large profile), then a 1% change reconciled.

What `nve apply FILE` does, phase by phase and timed: load the YAML description, check it
(validation, compilation, capacity against the P4Info), connect (arbitration, pipeline
push), reconcile (read the switch, compile, diff, batched Writes tier by tier). The switch
is a p4sim process on loopback. The description has one ToR with 100,000 endpoints in 100
virtual subnets of 10 tenants: 1,000 attached to the ToR's access ports, the rest behind
500 remote NVEs (an l2.dmac CA->PA entry each). Then:

* a second apply of the same file (must write nothing);
* a 1% change: 1,000 endpoints edited (400 moved between remote NVEs, 100 moved away from
  the ToR, 100 moved onto it, 400 with a new MAC), applied as a fresh `nve apply` would;
* the same kind of entries written one Write per entry, as p4runtime-shell does, on a
  sample (the rate is what matters; the full count would only take longer).

Peak memory is ru_maxrss of this (the controller's) process and VmHWM of the switch's.
`--quick` (or NVE_BENCH_QUICK=1) uses 10,000 endpoints.
"""

from __future__ import annotations

import asyncio
import gc
import resource
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from finsy.proto import p4r

from bench._p4sim import P4simProcess, compile_large, quick
from lab.targets import PipelineFiles
from nve.codec import encode
from nve.controller import Controller
from nve.loader import load_overlay
from nve.p4rt_client import INSERT, SwitchClient
from nve.pipeline import load_pipeline
from nve.reconcile import ReconcileReport

TENANTS = 10
SUBNETS_PER_TENANT = 10
SUBNETS = TENANTS * SUBNETS_PER_TENANT
REMOTE_NVES = 500
LOCAL_ENDPOINTS = 1_000
ACCESS_PORTS = 8
NETWORK_PORT = 32
MAC_BASE = 0x525400000000


def _mac(value: int) -> str:
    raw = f"{value:012x}"
    return ":".join(raw[i : i + 2] for i in range(0, 12, 2))


def _vsid(s: int) -> str:
    return f"0x{0x010000 + s:06x}"


def _nve_pa(n: int) -> str:
    return f"10.1.{n // 250}.{n % 250 + 1}"


@dataclass(frozen=True)
class Placement:
    mac: int
    local: bool
    where: int  # access port (local) or remote NVE number


def placement(e: int, edited: bool) -> Placement:
    """Where endpoint e lives, before or after the 1% edit."""
    s = e % SUBNETS
    local = e < LOCAL_ENDPOINTS
    nve = s % 50 + 50 * ((e // SUBNETS) % 10)
    mac = MAC_BASE + e
    if edited:
        if 1_000 <= e < 1_400:  # moved to another remote NVE of its VSID
            nve = s % 50 + 50 * ((e // SUBNETS + 1) % 10)
        elif e < 100:  # moved off the ToR
            local, nve = False, s % 50
        elif 1_400 <= e < 1_500:  # moved onto the ToR
            local = True
        elif 1_500 <= e < 1_900:  # a new MAC (delete + insert)
            mac = MAC_BASE + 0x1000000 + e
    return Placement(mac, local, 1 + e % ACCESS_PORTS if local else nve)


def write_description(
    path: Path, compiled: PipelineFiles, address: str, endpoints: int, edited: bool
) -> None:
    """The description, written line by line (flow-style endpoints, as operators' generators do)."""
    with path.open("w") as f:
        f.write(f"""switches:
  - name: tor1
    address: "{address}"
    election_id: 10
    pipeline: {{p4info: {compiled.p4info}, device_config: {compiled.device_config}}}
    nve_mac: "02:00:0a:ff:00:01"
    local_pas: [10.255.0.1]
    ports:
""")
        for p in range(1, ACCESS_PORTS + 1):
            f.write(f"      - {{port: {p}, role: access}}\n")
        f.write(f"""      - {{port: {NETWORK_PORT}, role: network, mtu: 9000}}
    next_hops:
      - {{name: spine, port: {NETWORK_PORT}, mac: "02:00:0b:00:00:01"}}
    underlay_routes:
      - {{prefix: 10.0.0.0/8, via: spine}}
tenants:
""")
        for t in range(TENANTS):
            f.write(f"  - name: t{t}\n    vrf: {t + 1}\n    subnets:\n")
            for k in range(SUBNETS_PER_TENANT):
                s = t * SUBNETS_PER_TENANT + k
                f.write(f"      - {{name: s{s}, vsid: {_vsid(s)}}}\n")
        f.write("remote_nves:\n")
        for n in range(REMOTE_NVES):
            f.write(
                f"  - {{name: nve{n}, pa: {_nve_pa(n)}, vsids: [{_vsid(n % 50)}, {_vsid(n % 50 + 50)}]}}\n"
            )
        f.write("endpoints:\n")
        for e in range(endpoints):
            pl = placement(e, edited)
            s = e % SUBNETS
            if pl.local:
                att = f"{{switch: tor1, port: {pl.where}, vlan: {100 + s}}}"
            else:
                att = f"{{remote_nve: nve{pl.where}}}"
            f.write(
                f'  - {{name: ep{e}, vsid: {_vsid(s)}, mac: "{_mac(pl.mac)}", attachment: {att}}}\n'
            )


@dataclass
class Apply:
    """One `nve apply` run, phase by phase."""

    seconds: dict[str, float] = field(default_factory=dict)
    report: ReconcileReport | None = None
    desired: int = 0

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    @property
    def written(self) -> int:
        return self.report.writes if self.report else 0


async def apply(path: Path) -> Apply:
    out = Apply()
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        out.seconds[name] = now - t
        t = now

    loaded = load_overlay(path)
    lap("load")
    ctl = Controller(loaded)
    problems = ctl.check()
    if problems:
        raise SystemExit(f"the generated description is invalid: {problems[0]}")
    lap("check")
    await ctl.connect()
    lap("connect")
    try:
        out.report = await ctl.reconcile()
        lap("reconcile")
    finally:
        await ctl.close()
    if not out.report.ok:
        first = out.report.failures[0] if out.report.failures else None
        raise SystemExit(
            f"apply failed: {first} {[r.skipped for r in out.report.switches.values()]}"
        )
    out.desired = len(ctl.states["tor1"].entities)
    return out


async def one_write_per_entry(
    compiled: PipelineFiles, path: Path, sample: int
) -> tuple[int, float]:
    """`sample` of the description's entries, each in its own awaited Write, into a fresh switch."""
    loaded = load_overlay(path)
    ctl = Controller(loaded)
    ctl.check()
    with P4simProcess() as switch:
        artifacts = load_pipeline(loaded.overlay.switches[0].pipeline, loaded.base_dir)
        client = SwitchClient(switch.address, 0, 10)  # p4sim --no-p4 default device
        await client.open()
        try:
            await client.set_pipeline(artifacts.p4info, artifacts.device_config, artifacts.cookie)
            from nve.p4info import P4Index

            index = P4Index(artifacts.p4info)
            entities = sorted(
                ctl.states["tor1"].entities if "tor1" in ctl.states else [],
                key=lambda e: e.tier,
            )
            if not entities:
                from nve.compile import compile_switch

                entities = sorted(
                    compile_switch(loaded.overlay, "tor1").entities, key=lambda e: e.tier
                )
            chosen = [
                e
                for e in entities
                if getattr(e, "table", "") and not getattr(e, "is_default", False)
            ][:sample]
            t0 = time.perf_counter()
            for e in chosen:
                # As p4runtime-shell's TableEntry.insert(): build one update, send one Write, wait.
                result = await client.write([p4r.Update(type=INSERT, entity=encode(e, index))])
                if not result.ok:
                    raise SystemExit(f"single write failed: {result.errors[0].message}")
            return len(chosen), time.perf_counter() - t0
        finally:
            await client.close()


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _row(label: str, run: Apply) -> str:
    s = run.seconds
    rate = run.written / s["reconcile"] if run.written else 0.0
    return (
        f"{label:<22} {s['load']:>6.2f} {s['check']:>6.2f} {s['connect']:>7.2f} {s['reconcile']:>9.2f} "
        f"{run.total:>7.2f} {run.written:>8} {rate:>11,.0f}"
    )


def main() -> None:
    endpoints = 10_000 if quick() else 100_000
    sample = 1_000 if quick() else 3_000
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        compiled = compile_large(tmp)
        with P4simProcess() as switch:
            first, second = tmp / "overlay.yaml", tmp / "overlay-edited.yaml"
            write_description(first, compiled, switch.address, endpoints, edited=False)
            write_description(second, compiled, switch.address, endpoints, edited=True)
            gc.collect()
            print(
                f"{endpoints:,} endpoints ({first.stat().st_size / 1e6:.1f} MB of YAML), one p4sim switch, "
                f"large profile"
            )
            print(
                f"{'apply':<22} {'load':>6} {'check':>6} {'connect':>7} {'reconcile':>9} {'total':>7} "
                f"{'written':>8} {'entries/s':>11}"
            )
            install = asyncio.run(apply(first))
            print(_row("install", install))
            again = asyncio.run(apply(first))
            print(_row("re-apply, no change", again))
            if again.written:
                raise SystemExit(f"a second apply wrote {again.written} entities; expected none")
            edit = asyncio.run(apply(second))
            print(_row("1% change", edit))
            counts = next(iter(edit.report.switches.values())).plan.counts() if edit.report else {}
            print(
                f"  1% change: {counts.get('insert', 0)} insert, {counts.get('modify', 0)} modify, "
                f"{counts.get('delete', 0)} delete"
            )
            sw = switch.stats()
            print(
                f"desired entities {install.desired:,}; peak RSS: controller {_rss_mb():.0f} MB, "
                f"switch {sw.peak_rss_mb:.0f} MB (switch CPU {sw.cpu_s:.1f} s)"
            )
        n, seconds = asyncio.run(one_write_per_entry(compiled, first, sample))
        print(
            f"one Write per entry: {n} entries in {seconds:.2f} s = {n / seconds:,.0f} entries/s "
            f"(all {install.written:,} would take ~{install.written / (n / seconds):.0f} s)"
        )


if __name__ == "__main__":
    main()
