"""requirements.lock is what bootstrap installs: it must agree with pyproject.toml's
ranges, and the environment the tests run in must be exactly the lock."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
PYPROJECT = ROOT / "pyproject.toml"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")
_HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


def locked() -> dict[NormalizedName, Version]:
    """name -> exact version, from the lock; every pin must carry at least one hash."""
    pins: dict[NormalizedName, Version] = {}
    text = LOCK.read_text()
    for block in re.split(r"\n(?=\S)", text):
        match = _PIN.match(block)
        if match is None:
            continue
        name = canonicalize_name(match.group(1))
        assert _HASH.search(block), f"requirements.lock: {name} has no --hash"
        assert name not in pins, f"requirements.lock: {name} pinned twice"
        pins[name] = Version(match.group(2))
    return pins


def declared() -> list[Requirement]:
    """Every requirement pyproject.toml makes: runtime dependencies and all extras."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in project.get("optional-dependencies", {}).values():
        reqs += [Requirement(r) for r in extra]
    return reqs


def test_lock_says_what_it_is_for() -> None:
    header = LOCK.read_text().split("\n", 3)[:3]
    assert any("--python-version 3.11" in line for line in header), header
    assert any("x86_64" in line for line in header), header
    assert any("--generate-hashes" in line for line in header), header


def test_every_declared_requirement_is_locked_within_its_range() -> None:
    pins = locked()
    wrong = []
    for req in declared():
        name = canonicalize_name(req.name)
        if name not in pins:
            wrong.append(f"{req} is not in requirements.lock")
        elif not req.specifier.contains(pins[name], prereleases=True):
            wrong.append(f"{req}: the lock has {pins[name]}")
    assert not wrong, (
        "pyproject.toml and requirements.lock disagree (run `make lock`):\n" + "\n".join(wrong)
    )


def test_installers_are_locked_too() -> None:
    pins = locked()
    for name in ("pip", "setuptools", "wheel"):
        assert name in pins, f"requirements.lock does not pin {name}"


def test_environment_is_exactly_the_lock() -> None:
    """The venv bootstrap made holds the locked versions, and nothing else but the project."""
    if not LOCK.is_file():
        pytest.skip("no requirements.lock")
    pins = locked()
    installed = {
        canonicalize_name(dist.metadata["Name"]): Version(dist.version)
        for dist in metadata.distributions()
    }
    installed.pop(canonicalize_name("nvgre-nve"), None)
    differ = sorted(
        f"{name}: installed {installed.get(name)}, locked {pins.get(name)}"
        for name in set(pins) | set(installed)
        if installed.get(name) != pins.get(name)
    )
    assert not differ, "the environment is not the lock (delete .venv and run make):\n" + "\n".join(
        differ
    )
