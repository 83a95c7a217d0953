"""The child process that compiles a received program: ``python -m p4sim.compile_worker``.

It limits itself first (CPU seconds and address space, from its arguments), then reads one
JSON request from stdin (``source``, ``filename``, ``files``), compiles it with the front end
(includes only from ``files`` and p4sim's own headers) and writes one pickled reply to stdout:
``("ok", Program)``, or ``(kind, message)`` with kind ``"invalid"`` (the program is wrong) or
``"exhausted"`` (it is over a limit). The parent (:mod:`p4sim.sandbox_compiler`) kills it at the
request's deadline; a child killed by its own CPU limit says nothing, and the parent reports it.
"""

from __future__ import annotations

import argparse
import gc
import json
import pickle
import resource
import sys

_MIB = 1024 * 1024
_TOO_DEEP = (
    "the program nests too deeply for p4sim's compiler "
    f"(Python's recursion limit, {sys.getrecursionlimit()} frames)"
)


def _limit(cpu_seconds: int, memory_mib: int) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory_mib * _MIB, memory_mib * _MIB))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _compile(request: dict[str, object], memory_mib: int) -> tuple[str, object]:
    from p4sim.compiler import compile_source
    from p4sim.errors import CompileError

    source = request["source"]
    filename = request["filename"]
    files = request["files"]
    assert isinstance(source, str) and isinstance(filename, str) and isinstance(files, dict)
    try:
        return "ok", compile_source(source, filename=filename, files=files)
    except CompileError as exc:
        return "invalid", str(exc)
    except RecursionError:
        return "exhausted", _TOO_DEEP
    except MemoryError:
        return (
            "exhausted",
            f"compiling needs more than the {memory_mib} MiB allowed (--compile-memory-mib)",
        )
    except Exception as exc:  # noqa: BLE001 - a program the front end did not foresee
        return "invalid", f"{type(exc).__name__}: {str(exc)[:500]}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="p4sim.compile_worker")
    ap.add_argument("--cpu-seconds", type=int, required=True)
    ap.add_argument("--memory-mib", type=int, required=True)
    args = ap.parse_args(argv)
    _limit(args.cpu_seconds, args.memory_mib)
    # One program, then exit: the cycle collector's passes over the growing IR would only make
    # the compile time grow faster than the program (RLIMIT_AS bounds the memory anyway).
    gc.disable()
    request = json.loads(sys.stdin.buffer.read())
    reply = _compile(request, args.memory_mib)
    try:
        data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
    except RecursionError:
        data = pickle.dumps(("exhausted", _TOO_DEEP))
    except MemoryError:
        data = pickle.dumps(("exhausted", f"the compiled program exceeds {args.memory_mib} MiB"))
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
