"""Resubmit and recirculate: a packet that goes through ingress again, as bmv2 does it.

bmv2 simple_switch (p4lang/behavioral-model, ``targets/simple_switch/simple_switch.cpp``)
puts both kinds of packet back into its input buffer, ahead of newly received ones:

* ``ingress_thread`` (RESUBMIT), after ingress cloning and learning and before multicast and
  unicast: the packet as it entered this ingress pass (its buffer state restored) goes back,
  ``copy_field_list_and_set_type`` resets its metadata, copies the ``@field_list`` fields
  from the final ingress values and sets ``instance_type`` to PKT_INSTANCE_TYPE_RESUBMIT (6);
  ``packet_length`` is the ingress length. The packet itself is not multicast or forwarded
  (``continue``), whatever ``mcast_grp`` or ``egress_spec`` say.
* ``egress_thread`` (RECIRCULATE), after egress cloning, after the drop check and after the
  deparser: the deparsed packet goes back with metadata reset, the field list copied from the
  final egress values, ``instance_type`` PKT_INSTANCE_TYPE_RECIRC (4) and ``packet_length``
  the deparsed size; it is not transmitted. The copy is made with ``clone_no_phv_ptr``, which
  does not carry the ``truncate`` length, so a recirculated packet is never truncated.

Neither path writes ``standard_metadata.ingress_port`` again: only ``SimpleSwitch::receive_``
sets it, and the metadata reset zeroes it, so a resubmitted or recirculated packet reads
``ingress_port`` 0 (and ``ingress_global_timestamp`` 0, which ``receive_`` also sets). The
packet object keeps its receive port, which is what the re-parse of an ingress clone uses.

In p4sim the packet function of a program that calls either extern takes two more
arguments: ``_again``, a list it appends re-entry requests to, and ``_re``, the request
(``(instance_type, field list index, preserved values)``) a re-entering pass starts from.
``V1ModelPipeline`` runs the requests in order, at most ``MAX_PASSES`` ingress passes per
received frame. Programs that call neither extern are generated exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ..frontend import ir as I
from .codegen import Emitter, _loc
from .errors import EngineError
from .storage import Storage

# v1model instance types (bmv2 simple_switch.cpp PktInstanceType)
RECIRC, RESUBMIT = 4, 6

RESUBMIT_EXTERN = "resubmit_preserving_field_list"
RECIRCULATE_EXTERN = "recirculate_preserving_field_list"
EXTERNS = (RESUBMIT_EXTERN, RECIRCULATE_EXTERN)

# Ingress passes one received frame may cause (itself included). bmv2 has no such limit (a
# program that always resubmits spins forever); p4sim must return from process().
MAX_PASSES = 64


class V1ModelGen(Protocol):
    """What this module uses of the code generator (:class:`p4sim.engine.v1model.V1ModelGen`,
    which imports this module: a protocol, so that this one need not import it back)."""

    @property
    def em(self) -> Emitter: ...
    @property
    def st(self) -> Storage: ...
    @property
    def pipe(self) -> str: ...
    @property
    def in_parser(self) -> bool: ...
    @property
    def trace(self) -> bool: ...
    @property
    def drop_port(self) -> int: ...
    @property
    def resubmit_lists(self) -> set[int]: ...
    @property
    def recirculate_lists(self) -> set[int]: ...


def gen_call(g: V1ModelGen, s: I.ExternFunctionCall) -> None:
    """The call itself: remember the request (the last call of a pass wins, as bmv2's
    ``resubmit``/``recirculate`` primitives overwrite one packet register)."""
    resubmit = s.name == RESUBMIT_EXTERN
    # p4c's bmv2 back end (ExternConverter_resubmit_preserving_field_list and
    # ..._recirculate_...): resubmit only in ingress, recirculate only in egress, and the
    # field list index a constant
    want = "ingress" if resubmit else "egress"
    if g.pipe != want or g.in_parser:
        raise EngineError(f"{_loc(s)}: {s.name} can only be called in the {want} control")
    arg = s.args[0].expr if s.args else None
    if not isinstance(arg, I.Const):
        raise EngineError(f"{_loc(s)}: the field list index of {s.name} must be a constant")
    fl = arg.value
    flag = "_rs" if resubmit else "_rc"
    (g.resubmit_lists if resubmit else g.recirculate_lists).add(fl)
    g.em.line(f"{flag} = 1")
    g.em.line(f"{flag}fl = {fl}")


def _kept(st: Storage, fl: int) -> list[str]:
    return [s.name for s in st.field_list(fl)]


def _request(em: Emitter, st: Storage, flag: str, lists: set[int], data: str, itype: int) -> None:
    """Append ``(data, (itype, field list, preserved values))`` to ``_again``."""
    lines = {
        fl: f"_again.append(({data}, ({itype}, {fl}, "
        f"({''.join(n + ', ' for n in _kept(st, fl))}))))"
        for fl in sorted(lists)
    }
    if len(lines) == 1:
        em.line(next(iter(lines.values())))
        return
    for i, (fl, line) in enumerate(lines.items()):
        with em.block(f"{'if' if i == 0 else 'elif'} {flag}fl == {fl}:"):
            em.line(line)


def gen_prologue(
    em: Emitter, g: V1ModelGen, sm: Callable[[str], str | None], timestamp_used: bool
) -> None:
    """Before the parser: clear the requests, and for a re-entering pass set what bmv2's
    input buffer hands the parser (instance type, the preserved fields, ingress_port and
    ingress_global_timestamp 0)."""
    flags = []
    if g.resubmit_lists:
        flags.append("_rs")
    if g.recirculate_lists:
        flags.append("_rc")
    em.line(" = ".join(flags) + " = 0")
    with em.block("if _re is not None:"):
        if sm("instance_type"):
            em.line(f"{sm('instance_type')} = _re[0]")
        if sm("ingress_port"):
            em.line(f"{sm('ingress_port')} = 0")
        if timestamp_used and sm("ingress_global_timestamp"):
            em.line(f"{sm('ingress_global_timestamp')} = 0")
        first = True
        for fl in sorted(g.resubmit_lists | g.recirculate_lists):
            names = _kept(g.st, fl)
            if not names:
                continue
            with em.block(f"{'if' if first else 'elif'} _re[1] == {fl}:"):
                em.line(f"{', '.join(names)}, = _re[2]")
            first = False


def gen_resubmit(em: Emitter, g: V1ModelGen, sm: Callable[[str], str | None]) -> None:
    """End of ingress, after clone and digest: the packet as this pass received it goes back;
    multicast and unicast are skipped (mcast_grp 0, egress_spec the drop port)."""
    if not g.resubmit_lists:
        return
    with em.block("if _rs:"):
        if g.trace:
            em.line("_tr('Resubmitting packet')")
        _request(em, g.st, "_rs", g.resubmit_lists, "_d", RESUBMIT)
        if sm("mcast_grp"):
            em.line(f"{sm('mcast_grp')} = 0")
        em.line(f"{sm('egress_spec')} = {g.drop_port}")


def gen_recirculate(em: Emitter, g: V1ModelGen) -> None:
    """After the deparser (so after the egress drop check): the frame goes back instead of
    out, untruncated."""
    if not g.recirculate_lists:
        return
    with em.block("if _rc:"):
        if g.trace:
            em.line("_tr('Recirculating packet of size %d' % len(_f))")
        _request(em, g.st, "_rc", g.recirculate_lists, "_f", RECIRC)
        em.line("continue")
