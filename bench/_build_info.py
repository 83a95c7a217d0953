"""What build of each target a benchmark ran: versions, paths, and for a native binary what
its machine code says about how it was compiled.

A stripped ELF file keeps no record of its compiler flags, but two of their effects are
visible in the code, at the entry of every function (listed, even when stripped, in the
binary-search table of ``.eh_frame_hdr``):

* GCC's -O2 and -O3 align function entries to 16 bytes (``-falign-functions``); -O0, -Og,
  -O1 and -Os do not.  Measured with GCC 12 on a small C++ file: 63 % of entries aligned at
  -O2/-O3 (the rest are the ``.cold`` parts of split functions), 7-24 % below -O2, where
  alignment is chance.  Debian's libstdc++ (-O2): 92 %.
* -O0 keeps a frame pointer: nearly every function starts ``push %rbp; mov %rsp,%rbp``
  (99 % at -O0, 0 % from -O1 up).

So a binary with few aligned entries and few frame-pointer prologues was built at -O1, -Og
or -Os; these checks cannot tell those three apart.  x86-64 little-endian ELF only.
"""

from __future__ import annotations

import importlib.metadata
import platform
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENDBR64 = b"\xf3\x0f\x1e\xfa"
FRAME_POINTER_PROLOGUE = b"\x55\x48\x89\xe5"  # push %rbp; mov %rsp,%rbp


@dataclass
class CodeFacts:
    compiler: str  # the .comment section ("GCC: (Debian 12.2.0-14) 12.2.0")
    functions: int  # function entries in .eh_frame_hdr
    aligned16: float  # fraction of entries on a 16-byte boundary
    frame_pointer: float  # fraction of entries that set up a frame pointer
    stripped: bool  # no .symtab
    debug_info: bool  # a .debug_info section
    uses_assert: bool  # imports __assert_fail (assertions compiled in: no -DNDEBUG)

    @property
    def optimisation(self) -> str:
        if self.functions < 20:
            return "unknown (too few functions to tell)"
        if self.frame_pointer > 0.5:
            return "-O0 (functions set up a frame pointer)"
        if self.aligned16 > 0.5:
            return "-O2 or higher (function entries aligned to 16 bytes)"
        return "-O1, -Og or -Os (no frame pointers, function entries not aligned: below -O2)"


def _sections(data: bytes) -> dict[str, tuple[int, int, int]]:
    """Section name -> (address, file offset, size)."""
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    headers = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names_at = headers[shstrndx][4]
    out: dict[str, tuple[int, int, int]] = {}
    for h in headers:
        start = names_at + h[0]
        name = data[start : data.index(b"\0", start)].decode(errors="replace")
        out[name] = (h[3], h[4], h[5])
    return out


def _function_entries(data: bytes, hdr: tuple[int, int, int]) -> list[int]:
    addr, off, _size = hdr
    _version, ptr_enc, count_enc, table_enc = data[off : off + 4]
    if (ptr_enc, count_enc, table_enc) != (0x1B, 0x03, 0x3B):  # pcrel/udata4/datarel sdata4
        return []
    count = struct.unpack_from("<I", data, off + 8)[0]
    return [addr + struct.unpack_from("<i", data, off + 12 + 8 * i)[0] for i in range(count)]


def code_facts(path: Path) -> CodeFacts | None:
    """What the machine code of an x86-64 ELF file says about its build (None: not one)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1 or data[18] != 0x3E:
        return None
    sections = _sections(data)
    comment = ""
    if ".comment" in sections:
        _a, off, size = sections[".comment"]
        comment = "; ".join(
            s.decode(errors="replace") for s in data[off : off + size].split(b"\0") if s
        )
    entries = (
        _function_entries(data, sections[".eh_frame_hdr"]) if ".eh_frame_hdr" in sections else []
    )
    text = sections.get(".text")
    frame_pointer = 0
    for entry in entries:
        if text is None or not text[0] <= entry < text[0] + text[2]:
            continue
        at = entry - text[0] + text[1]
        code = data[at : at + 8]
        if code.startswith(ENDBR64):
            code = code[4:]
        frame_pointer += code.startswith(FRAME_POINTER_PROLOGUE)
    n = len(entries)
    return CodeFacts(
        compiler=comment or "unknown",
        functions=n,
        aligned16=sum(e % 16 == 0 for e in entries) / n if n else 0.0,
        frame_pointer=frame_pointer / n if n else 0.0,
        stripped=".symtab" not in sections,
        debug_info=".debug_info" in sections,
        uses_assert=b"__assert_fail\0" in data,
    )


def _output(argv: list[str]) -> str:
    """A command's output on one line ("unknown" if none, "unavailable (why)" if it failed)."""
    try:
        proc = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    text = " ".join(line.strip() for line in (proc.stdout or proc.stderr).splitlines())
    return text.strip() or "unknown"


def bmv2_build() -> list[str]:
    """simple_switch_grpc's version, where it is, and how its code was compiled."""
    exe = shutil.which("simple_switch_grpc")
    if exe is None:
        return ["simple_switch_grpc: not installed"]
    real = Path(exe).resolve()
    lines = [
        f"simple_switch_grpc {_output([exe, '--version'])}: {exe}"
        + (f" -> {real}" if str(real) != exe else ""),
        f"compiler: {_output(['p4c-bm2-ss', '--version'])}",
    ]
    facts = code_facts(real)
    if facts is None:
        lines.append("build: not an x86-64 ELF file, compiler flags unknown")
        return lines
    lines.append(
        f"build: {facts.compiler}; optimisation {facts.optimisation} "
        f"[{facts.functions:,} functions, {facts.aligned16:.0%} 16-byte aligned, "
        f"{facts.frame_pointer:.0%} frame-pointer prologues]"
    )
    flags = [
        "stripped" if facts.stripped else "not stripped",
        "debug info" if facts.debug_info else "no debug info",
        "assertions compiled in" if facts.uses_assert else "assertions compiled out",
    ]
    if b"Processing packet received on port" in real.read_bytes():
        flags.append("per-packet logging macros compiled in (logging off at run time)")
    lines.append("build: " + ", ".join(flags))
    return lines


def p4sim_build(executable: str) -> list[str]:
    """p4sim's version, the interpreter that runs it, and the source revision."""
    try:
        version = importlib.metadata.version("nvgre-nve")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    rev = _output(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    dirty = _output(["git", "-C", str(REPO), "status", "--porcelain", "--", "sim"])
    if dirty != "unknown" and not dirty.startswith("unavailable"):
        rev += " with local changes in sim/"
    python = f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})"
    return [
        f"p4sim (nvgre-nve {version}, source {rev}): {executable}",
        f"build: pure Python, {python}",
    ]
