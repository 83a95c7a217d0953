"""p4sim: time to compile a program and build its pipeline, against the program's size.

A device config is compiled and built on every SetForwardingPipelineConfig, so the time must
grow linearly with the program: here a v1model program whose ingress applies N statements
that write fields of an extracted header (the case the received-bytes tracking looks at),
for N = 1,000 and 10,000. It prints the seconds of the compile (in a child process, as the
server runs it) and of the engine's pipeline build (in this process) for each N, and the
ratio of the 10,000 to the 1,000 figure, which should stay within 12 (10 for exactly linear,
plus noise). ``--quick``: 500 and 5,000.
"""

from __future__ import annotations

import resource
import time

from bench._p4sim import quick

PROGRAM = """#include <core.p4>
#include <v1model.p4>
header ethernet_t { bit<48> dst; bit<48> src; bit<16> type; }
struct headers_t { ethernet_t eth; }
struct meta_t { bit<16> x; }
parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); transition accept; }
}
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control Ing(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    apply {
%s
        sm.egress_spec = 1;
    }
}
control Eg(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.eth); } }
V1Switch(P(), VC(), Ing(), Eg(), CC(), D()) main;
"""


def program(statements: int) -> str:
    lines = []
    for i in range(statements):
        if i % 3 == 0:
            lines.append(f"        hdr.eth.type = hdr.eth.type + {i % 251};")
        elif i % 3 == 1:
            lines.append(f"        meta.x = meta.x ^ hdr.eth.type + {i % 13};")
        else:
            lines.append("        hdr.eth.src = hdr.eth.src + 1;")
    return PROGRAM % "\n".join(lines)


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(statements: int) -> tuple[float, float]:
    """(compile CPU seconds, verify-and-build CPU seconds) for a program of ``statements``, as
    the server runs them: the compile in a child process (its CPU time plus this process's
    to unpickle the reply), then the P4Info comparison, the state and the pipeline build in
    this process. CPU time, not wall time: the machine is shared."""
    from p4sim.device_config import make_device_config
    from p4sim.sandbox_compiler import ChildCompiler, CompileLimits
    from p4sim.server.pipeline_verify import verify_config
    from p4sim.switch import Switch

    source = program(statements)
    filename = f"build{statements}.p4"
    compiler = ChildCompiler(CompileLimits(cpu_seconds=3600, memory_mib=8192))
    switch = Switch(compiler=compiler)
    c0, t0 = _child_cpu(), time.process_time()
    compiled = compiler.compile(source, filename)
    c1, t1 = _child_cpu(), time.process_time()
    p4info = compiled.p4info()
    config = make_device_config(source, filename, p4info).to_bytes()
    t2 = time.process_time()
    verify_config(switch, p4info, config, None)  # the compile is a cache hit now
    t3 = time.process_time()
    return (c1 - c0) + (t1 - t0), t3 - t2


def main() -> None:
    small, large = (500, 5_000) if quick() else (1_000, 10_000)
    base = measure(10)[0]  # also warms this process up
    figures = {n: measure(n) for n in (small, large)}
    print(f"  {10:>6} statements: compile {base:6.2f} s CPU (the child's start-up, mostly)")
    for n, (front, build) in figures.items():
        print(
            f"  {n:>6} statements: compile {front:6.2f} s CPU, verify and build {build:6.2f} s CPU"
        )
    (fs, bs), (fl, bl) = figures[small], figures[large]
    print(
        f"  ratio for {large // small}x the statements: compile {fl / fs:.1f}x "
        f"({(fl - base) / (fs - base):.1f}x less the start-up), verify and build "
        f"{bl / bs:.1f}x, total {(fl + bl) / (fs + bs):.1f}x "
        f"({(fl - base + bl) / (fs - base + bs):.1f}x less the start-up; limit 12x)"
    )
