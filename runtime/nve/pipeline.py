"""The pipeline a switch should run: P4Info + device config, from files or compiled by p4sim.

The cookie identifies the pair (a hash), so a controller that reconnects can tell with one
GetForwardingPipelineConfig whether the switch already runs the same pipeline.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from finsy.proto import p4i

from nve.model import PipelineFiles, PipelineProgram
from nve.p4info import P4InfoError, load_p4info


class PipelineError(Exception):
    """The pipeline named in the description cannot be loaded or compiled."""


@dataclass(frozen=True)
class PipelineArtifacts:
    p4info: p4i.P4Info
    device_config: bytes
    cookie: int
    origin: str


def cookie_of(p4info: p4i.P4Info, device_config: bytes) -> int:
    digest = hashlib.sha256(
        p4info.SerializeToString(deterministic=True) + b"\0" + device_config
    ).digest()
    return int.from_bytes(digest[:8], "big") >> 1  # fits int64 as well as uint64


def is_p4sim_config(device_config: bytes) -> bool:
    """A p4sim device config (`p4sim compile -o`): JSON whose first member is its format."""
    return b'"format": "p4sim-device-config"' in device_config[:64]


def _resolve(base_dir: Path, path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else (base_dir / p)


def load_pipeline(spec: PipelineFiles | PipelineProgram, base_dir: Path) -> PipelineArtifacts:
    """Load (or compile) the pipeline; errors name the file and what went wrong."""
    if isinstance(spec, PipelineFiles):
        p4info_path = _resolve(base_dir, spec.p4info)
        config_path = _resolve(base_dir, spec.device_config)
        try:
            info = load_p4info(p4info_path)
            device_config = config_path.read_bytes()
        except OSError as exc:
            raise PipelineError(f"{exc.filename}: {exc.strerror}") from None
        except P4InfoError as exc:
            raise PipelineError(str(exc)) from None
        return PipelineArtifacts(
            info, device_config, cookie_of(info, device_config), str(p4info_path)
        )
    return compile_program(
        _resolve(base_dir, spec.program),
        [_resolve(base_dir, d) for d in spec.include_dirs],
        {k: str(v) for k, v in spec.defines.items()},
    )


def compile_program(
    program: Path, include_dirs: list[Path], defines: dict[str, str]
) -> PipelineArtifacts:
    """Compile with p4sim's front end into P4Info and a p4sim device config."""
    try:
        from p4sim.compiler import compile_file
        from p4sim.device_config import make_device_config
    except ImportError as exc:
        raise PipelineError(
            f"cannot compile {program}: p4sim's compiler is not available ({exc}); "
            "give pipeline: {p4info, device_config} files instead"
        ) from None
    if not program.is_file():
        raise PipelineError(f"{program}: no such P4 program")
    try:
        compiled = compile_file(
            str(program), include_dirs=tuple(str(d) for d in include_dirs), defines=dict(defines)
        )
    except Exception as exc:  # noqa: BLE001  # any front-end failure, reported (CompileError: file:line:col)
        raise PipelineError(f"{exc}") from None
    info = compiled.p4info()
    device_config = make_device_config(compiled.source, program.name, info).to_bytes()
    return PipelineArtifacts(info, device_config, cookie_of(info, device_config), str(program))
