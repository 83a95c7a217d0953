"""Giving up Linux capabilities once the sockets are bound.

p4sim needs privileges only to open its ports (raw sockets, offloads off) and to listen. After
that :func:`keep_only_net_raw` leaves the process CAP_NET_RAW and nothing else: it empties the
bounding set but for CAP_NET_RAW, locks the "no root privileges on exec" secure bit (so the
compiler children it starts get no capability, even as uid 0), sets no_new_privs, clears the
ambient set, then sets permitted and effective to CAP_NET_RAW and inheritable to nothing.
A process that has no CAP_SETPCAP (not started as root) only reduces what it holds.

Through ctypes, with the raw ``capset``/``prctl`` calls of libc (no new dependency).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path

CAP_NET_RAW = 13
CAP_SETPCAP = 8

_VERSION_3 = 0x20080522
_PR_CAPBSET_DROP = 24
_PR_SET_SECUREBITS = 28
_PR_GET_SECUREBITS = 27
_PR_SET_NO_NEW_PRIVS = 38
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4
_SECBIT_NOROOT = 1 << 0
_SECBIT_NOROOT_LOCKED = 1 << 1


class CapabilityError(OSError):
    """A capability call failed; the message names it."""


class _Header(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class _Data(ctypes.Structure):
    _fields_ = (
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    )


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise CapabilityError(err, f"{what}: {os.strerror(err)}")


def _capget(libc: ctypes.CDLL) -> tuple[int, int, int]:
    header = _Header(_VERSION_3, 0)
    data = (_Data * 2)()
    _check(libc.capget(ctypes.byref(header), data), "capget")
    return (
        data[0].effective | data[1].effective << 32,
        data[0].permitted | data[1].permitted << 32,
        data[0].inheritable | data[1].inheritable << 32,
    )


def _capset(libc: ctypes.CDLL, effective: int, permitted: int, inheritable: int) -> None:
    header = _Header(_VERSION_3, 0)
    data = (_Data * 2)()
    for i in range(2):
        data[i].effective = (effective >> (32 * i)) & 0xFFFFFFFF
        data[i].permitted = (permitted >> (32 * i)) & 0xFFFFFFFF
        data[i].inheritable = (inheritable >> (32 * i)) & 0xFFFFFFFF
    _check(libc.capset(ctypes.byref(header), data), "capset")


def _last_cap() -> int:
    try:
        return int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    except (OSError, ValueError):
        return 40


def _prctl(libc: ctypes.CDLL, *args: int) -> int:
    return int(libc.prctl(*(ctypes.c_ulong(a) for a in args)))


def keep_only_net_raw() -> int:
    """Drop every capability but CAP_NET_RAW (kept only if held); returns the effective set."""
    libc = _libc()
    _, permitted, _ = _capget(libc)
    keep = permitted & (1 << CAP_NET_RAW)
    if permitted & (1 << CAP_SETPCAP):
        bits = _prctl(libc, _PR_GET_SECUREBITS, 0, 0, 0, 0)
        _check(
            _prctl(
                libc, _PR_SET_SECUREBITS, bits | _SECBIT_NOROOT | _SECBIT_NOROOT_LOCKED, 0, 0, 0
            ),
            "prctl(PR_SET_SECUREBITS)",
        )
        for cap in range(_last_cap() + 1):
            if cap != CAP_NET_RAW:
                _check(_prctl(libc, _PR_CAPBSET_DROP, cap, 0, 0, 0), f"drop capability {cap}")
    _prctl(libc, _PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)  # EINVAL before 4.3
    _check(_prctl(libc, _PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
    _capset(libc, keep, keep, 0)
    return _capget(libc)[0]


def effective(pid: int | str = "self") -> int:
    """The effective capability set of a process (``CapEff`` in /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return int(line.split()[1], 16)
    raise CapabilityError(0, f"no CapEff in /proc/{pid}/status")
