"""The ``p4sim`` command: a drop-in for simple_switch_grpc, and ``p4sim compile``.

    p4sim [options] [PROGRAM.p4 | --no-p4] -- --grpc-server-addr ADDR --cpu-port N
    p4sim compile PROGRAM.p4 [-I DIR] [-D NAME[=VALUE]] --p4info FILE
                  [--p4runtime-format text|binary|json] [-o DEVICE_CONFIG]

Every failure the user can cause (a bad flag, a missing interface, a port in use, a program
that does not compile) ends with one line on stderr and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from p4sim.capabilities import CapabilityError, keep_only_net_raw
from p4sim.sandbox_compiler import ChildCompiler, CompileLimits

if TYPE_CHECKING:
    from finsy.proto import p4i

    from p4sim.compiler import Program

EXIT_USAGE = 2
EXIT_FAILURE = 1
BMV2_LEVELS = {
    "trace": logging.DEBUG,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
    "off": logging.CRITICAL + 10,
}


class CliError(Exception):
    """A user-facing failure: printed as ``p4sim: error: <message>``."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(EXIT_USAGE)


def _interface(text: str) -> tuple[int, str]:
    port, sep, ifname = text.partition("@")
    if not sep or not port.isdigit() or not ifname:
        raise argparse.ArgumentTypeError(f"{text!r} is not PORT@INTERFACE (e.g. 1@veth0)")
    if int(port) > 510:
        raise argparse.ArgumentTypeError(f"port {port} in {text!r} is out of range 0..510")
    return int(port), ifname


def _define(text: str) -> tuple[str, str]:
    name, _, value = text.partition("=")
    if not name.isidentifier():
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME[=VALUE]")
    return name, value if value else "1"


def _port_number(text: str) -> int:
    if not text.isdigit() or int(text) > 511:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number 0..511")
    return int(text)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def switch_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="p4sim",
        description="p4sim: a pure-Python v1model switch with a P4Runtime server "
        "(simple_switch_grpc's command line). Subcommand: p4sim compile --help.",
    )
    p.add_argument("program", nargs="?", help="P4_16 program to load at start (or --no-p4)")
    p.add_argument(
        "--no-p4",
        action="store_true",
        help="start with no program; wait for SetForwardingPipelineConfig",
    )
    p.add_argument(
        "-i",
        "--interface",
        action="append",
        type=_interface,
        default=[],
        metavar="N@IF",
        help="bind data-plane port N to Linux interface IF (raw socket; needs root)",
    )
    p.add_argument(
        "--device-id",
        type=int,
        default=0,
        help="P4Runtime device id (default 0, as simple_switch_grpc)",
    )
    p.add_argument("--log-level", "-L", choices=sorted(BMV2_LEVELS), default="info")
    p.add_argument(
        "--log-console", action="store_true", help="log to stderr (per-packet traces at debug)"
    )
    p.add_argument(
        "--pcap",
        nargs="?",
        const=".",
        default=None,
        metavar="DIR",
        help="write one pcap per port and direction into DIR (default: current directory)",
    )
    p.add_argument(
        "--drop-port", type=_port_number, default=None, help="egress port that drops (default 511)"
    )
    p.add_argument(
        "-I", dest="include", action="append", default=[], metavar="DIR", help="include directory"
    )
    p.add_argument(
        "-D", dest="define", action="append", type=_define, default=[], metavar="NAME[=VALUE]"
    )
    limits = p.add_argument_group("compiling received programs (docs/p4sim-server.md)")
    limits.add_argument(
        "--compile-cpu-seconds",
        type=_positive,
        default=CompileLimits.cpu_seconds,
        metavar="S",
        help=f"CPU seconds one compile may use (default {CompileLimits.cpu_seconds})",
    )
    limits.add_argument(
        "--compile-memory-mib",
        type=_positive,
        default=CompileLimits.memory_mib,
        metavar="MIB",
        help=f"memory one compile may use (default {CompileLimits.memory_mib})",
    )
    limits.add_argument(
        "--compile-cache-mib",
        type=_positive,
        default=CompileLimits.cache_mib,
        metavar="MIB",
        help=f"compiled programs kept for reuse (default {CompileLimits.cache_mib})",
    )
    p.add_argument(
        "--thrift-port", type=int, default=None, help=argparse.SUPPRESS
    )  # accepted, unused
    p.add_argument("--cpu-port", type=_port_number, default=None, help=argparse.SUPPRESS)
    return p


def target_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="p4sim ... --", description="target options (after --)")
    p.add_argument(
        "--grpc-server-addr",
        default="127.0.0.1:9559",
        help="P4Runtime address (default 127.0.0.1:9559)",
    )
    p.add_argument(
        "--cpu-port",
        type=_port_number,
        default=None,
        help="port whose frames are PacketIn/PacketOut",
    )
    p.add_argument("--drop-port", type=_port_number, default=None)
    p.add_argument(
        "--write-log",
        metavar="FILE",
        default=None,
        help="append one JSON line per Write and pipeline commit, with its election id and"
        " role, accepted or refused (docs/p4sim-server.md, Write log)",
    )
    tls = p.add_argument_group("TLS (docs/p4sim-server.md)")
    tls.add_argument("--grpc-server-ssl", action="store_true", help="serve P4Runtime over TLS")
    tls.add_argument("--grpc-server-cacert", metavar="PEM", help="CA that signs client certs")
    tls.add_argument("--grpc-server-cert", metavar="PEM", help="server certificate (chain)")
    tls.add_argument("--grpc-server-key", metavar="PEM", help="server private key")
    tls.add_argument(
        "--grpc-server-with-client-auth",
        action="store_true",
        help="require a client certificate signed by --grpc-server-cacert (mutual TLS)",
    )
    return p


def compile_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="p4sim compile", description="compile a P4_16 program: P4Info and p4sim device config"
    )
    p.add_argument("program")
    p.add_argument("-I", dest="include", action="append", default=[], metavar="DIR")
    p.add_argument(
        "-D", dest="define", action="append", type=_define, default=[], metavar="NAME[=VALUE]"
    )
    p.add_argument("--p4info", required=True, metavar="FILE", help="where to write the P4Info")
    p.add_argument("--p4runtime-format", choices=["text", "binary", "json"], default="text")
    p.add_argument(
        "-o", dest="output", metavar="DEVICE_CONFIG", help="where to write the device config"
    )
    return p


# -- compile ----------------------------------------------------------------------------------------------
def _compile(path: str, include: Sequence[str], defines: Sequence[tuple[str, str]]) -> Program:
    try:
        from p4sim.compiler import compile_file
        from p4sim.errors import CompileError
    except ImportError as exc:
        raise CliError(f"the p4sim front end is not available ({exc})") from None
    if not Path(path).is_file():
        raise CliError(f"{path}: no such file")
    try:
        return compile_file(path, include_dirs=tuple(include), defines=dict(defines))
    except CompileError as exc:
        raise CliError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None


def write_p4info(p4info: p4i.P4Info, path: Path, fmt: str) -> None:
    from google.protobuf import json_format, text_format

    if fmt == "binary":
        path.write_bytes(p4info.SerializeToString(deterministic=True))
    elif fmt == "json":
        path.write_text(json_format.MessageToJson(p4info) + "\n")
    else:
        path.write_text(text_format.MessageToString(p4info))


def run_compile(argv: Sequence[str]) -> int:
    from p4sim.device_config import make_device_config

    args = compile_parser().parse_args(argv)
    program = _compile(args.program, args.include, args.define)
    p4info = program.p4info()
    try:
        write_p4info(p4info, Path(args.p4info), args.p4runtime_format)
        if args.output:
            cfg = make_device_config(program.source, Path(args.program).name, p4info)
            Path(args.output).write_bytes(cfg.to_bytes())
    except OSError as exc:
        raise CliError(f"{exc.filename}: {exc.strerror}") from None
    return 0


def check_listen_address(address: str) -> None:
    """Fail early, in one line, when the gRPC address cannot be bound (grpc itself logs noisily)."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise CliError(f"--grpc-server-addr {address!r} is not HOST:PORT")
    host = host.strip("[]") or "0.0.0.0"  # noqa: S104  # no host: all interfaces, as gRPC binds it
    try:
        infos = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise CliError(f"--grpc-server-addr {address}: {exc.strerror}") from None
    family, _, _, _, sockaddr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(sockaddr)
        except OSError as exc:
            raise CliError(f"cannot listen on {address}: {exc.strerror}") from None


# -- the switch -------------------------------------------------------------------------------------------------
def split_argv(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    argv = list(argv)
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1 :]
    return argv, []


def run_switch(argv: Sequence[str]) -> int:
    from p4sim.device_config import make_device_config
    from p4sim.pipeline_api import DEFAULT_DROP_PORT
    from p4sim.ports import InProcessPorts, PcapWriter, PortError, RawSocketPorts
    from p4sim.server import P4RuntimeServer
    from p4sim.server.tls import TlsConfigError, server_tls
    from p4sim.server.write_log import WriteLog
    from p4sim.switch import Switch

    main_argv, target_argv = split_argv(argv)
    args = switch_parser().parse_args(main_argv)
    targs = target_parser().parse_args(target_argv)
    if args.program and args.no_p4:
        raise CliError("give either PROGRAM.p4 or --no-p4, not both")
    if not args.program and not args.no_p4:
        raise CliError("no program: give PROGRAM.p4 or --no-p4")
    ports_seen: dict[int, str] = {}
    for port, ifname in args.interface:
        if port in ports_seen:
            raise CliError(
                f"port {port} is given twice (-i {port}@{ports_seen[port]}, -i {port}@{ifname})"
            )
        ports_seen[port] = ifname
    level = BMV2_LEVELS[args.log_level]
    logging.basicConfig(
        level=level if args.log_console else max(level, logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )

    check_listen_address(targs.grpc_server_addr)
    try:
        tls = server_tls(
            ssl=targs.grpc_server_ssl,
            cacert=targs.grpc_server_cacert,
            cert=targs.grpc_server_cert,
            key=targs.grpc_server_key,
            with_client_auth=targs.grpc_server_with_client_auth,
        )
    except TlsConfigError as exc:
        raise CliError(str(exc)) from None
    program = _compile(args.program, args.include, args.define) if args.program else None
    cpu_port = targs.cpu_port if targs.cpu_port is not None else args.cpu_port
    drop_port = targs.drop_port if targs.drop_port is not None else args.drop_port
    try:
        backend = RawSocketPorts(ports_seen) if ports_seen else InProcessPorts()
    except PortError as exc:
        raise CliError(str(exc)) from None
    pcap = PcapWriter(Path(args.pcap)) if args.pcap is not None else None
    switch = Switch(
        device_id=args.device_id,
        cpu_port=cpu_port,
        drop_port=DEFAULT_DROP_PORT if drop_port is None else drop_port,
        ports=backend,
        pcap=pcap,
        compiler=ChildCompiler(
            CompileLimits(args.compile_cpu_seconds, args.compile_memory_mib, args.compile_cache_mib)
        ),
    )
    if program is not None:
        p4info = program.p4info()
        cfg = make_device_config(program.source, Path(args.program).name, p4info)
        switch.set_pipeline(p4info, cfg.to_bytes())
    # Ports are bound: from here on only CAP_NET_RAW, before any thread exists (capabilities
    # are per thread; every thread started later inherits the reduced sets).
    try:
        keep_only_net_raw()
    except CapabilityError as exc:
        backend.close()
        raise CliError(f"cannot drop capabilities: {exc}") from None
    try:
        write_log = WriteLog(Path(targs.write_log)) if targs.write_log else None
        server = P4RuntimeServer(switch, targs.grpc_server_addr, tls=tls, write_log=write_log)
    except OSError as exc:
        backend.close()
        raise CliError(str(exc)) from None
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    switch.start()
    server.start()
    logging.getLogger("p4sim").warning(
        "p4sim: device %d, P4Runtime on %s, ports %s",
        args.device_id,
        server.address,
        ", ".join(f"{p}@{i}" for p, i in sorted(ports_seen.items())) or "none",
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        switch.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "compile":
            return run_compile(argv[1:])
        return run_switch(argv)
    except CliError as exc:
        sys.stderr.write(f"p4sim: error: {exc}\n")
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
