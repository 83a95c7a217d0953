"""`nve import` and `nve endpoint add|move|remove`: the command line of the store."""

from __future__ import annotations

import argparse
import shlex
from typing import TypeVar

import pydantic

from nve.loader import LoadedOverlay
from nve.model import Endpoint, LocalAttachment, RemoteAttachment
from nve.problems import format_path
from nve.store.changes_file import load_changes
from nve.store.endpoints import (
    ChangeRefused,
    ChangeResult,
    add_endpoint,
    change_endpoints,
    change_label,
    move_endpoint,
    remove_endpoint,
)
from nve.store.etcd import Etcd
from nve.store.importer import import_overlay
from nve.store.rbac import etcdctl_commands, role_name
from nve.store.url import StoreUrl

M = TypeVar("M", bound=pydantic.BaseModel)

# model field path -> the option that gives it
_OPTIONS: dict[tuple[str | int, ...], str] = {
    ("name",): "NAME",
    ("vsid",): "--vsid",
    ("mac",): "--mac",
    ("ipv4",): "--ipv4",
    ("ipv6",): "--ipv6",
    ("attachment", "switch"): "--switch",
    ("attachment", "port"): "--port",
    ("attachment", "vlan"): "--vlan",
    ("attachment", "pa"): "--pa",
    ("attachment", "remote_nve"): "--remote-nve",
}


class OptionError(ValueError):
    """A command-line value the description would refuse, naming the option."""


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    imp = sub.add_parser(
        "import",
        help="validate a description and make it the overlay in etcd (docs/fleet.md)",
    )
    imp.add_argument("file")
    _store_arg(imp)
    imp.add_argument(
        "--no-pipeline", action="store_true", help="skip loading/compiling the P4 pipeline"
    )
    imp.add_argument(
        "--max-local-endpoints",
        type=int,
        default=None,
        metavar="N",
        help="at most N endpoints attached to each switch (kept by counter keys)",
    )
    roles = sub.add_parser(
        "store-roles",
        help="print the etcdctl commands that create the store's RBAC roles (docs/fleet.md)",
    )
    _store_arg(roles)
    ep = sub.add_parser("endpoint", help="add, move or remove one endpoint of the overlay in etcd")
    verbs = ep.add_subparsers(dest="verb", required=True)
    add = verbs.add_parser("add", help="a new endpoint")
    _store_arg(add)
    add.add_argument("name")
    add.add_argument("--vsid", required=True)
    add.add_argument("--mac", required=True)
    add.add_argument("--ipv4")
    add.add_argument("--ipv6")
    _attachment_args(add)
    move = verbs.add_parser("move", help="attach an endpoint elsewhere")
    _store_arg(move)
    move.add_argument("name")
    _attachment_args(move)
    rm = verbs.add_parser("remove", help="remove an endpoint")
    _store_arg(rm)
    rm.add_argument("name")
    apply = verbs.add_parser(
        "apply",
        help="a file of changes (changes: [add/move/remove]), committed in as few"
        " transactions as etcd allows; each refused change is reported alone",
    )
    _store_arg(apply)
    apply.add_argument("file")
    apply.add_argument(
        "--atomic",
        action="store_true",
        help="all or nothing: one transaction, nothing committed if any change is refused",
    )


def _store_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store", required=True, metavar="etcd[s]://HOST:PORT[/PREFIX][?ca=F&cert=F&key=F]"
    )


def _attachment_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--switch", help="attached to this switch (with --port)")
    p.add_argument("--port", type=int)
    p.add_argument("--vlan", type=int)
    p.add_argument("--pa", help="local PA used for it (default: the switch's first)")
    p.add_argument("--remote-nve", help="behind this remote NVE instead")


def _attachment(args: argparse.Namespace) -> LocalAttachment | RemoteAttachment:
    if args.remote_nve is not None:
        if args.switch is not None or args.port is not None:
            raise OptionError("--remote-nve excludes --switch and --port")
        return _checked(RemoteAttachment, {"remote_nve": args.remote_nve}, ("attachment",))
    if args.switch is None or args.port is None:
        raise OptionError("give --switch and --port, or --remote-nve")
    att: dict[str, object] = {"switch": args.switch, "port": args.port}
    if args.vlan is not None:
        att["vlan"] = args.vlan
    if args.pa is not None:
        att["pa"] = args.pa
    return _checked(LocalAttachment, att, ("attachment",))


def _checked(model: type[M], fields: dict[str, object], at: tuple[str, ...] = ()) -> M:
    """The model from command-line values; errors name the option that gave the value."""
    try:
        return model.model_validate(fields)
    except pydantic.ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False):
            loc = at + tuple(p for p in err["loc"] if p not in ("local", "remote"))
            option = _OPTIONS.get(loc, format_path(loc))
            lines.append(f"{option}: {err['msg'].removeprefix('Value error, ')}")
        raise OptionError("; ".join(lines)) from None


async def run_import(args: argparse.Namespace, loaded: LoadedOverlay) -> str:
    url = StoreUrl.parse(args.store)
    async with Etcd(url) as etcd:
        r = await import_overlay(
            etcd,
            url.prefix,
            loaded,
            max_local_endpoints=args.max_local_endpoints,
            validated=True,
        )
    replaced = f", replacing {r.previous}" if r.previous else ""
    return (
        f"{args.file}: current overlay in {url} is generation {r.generation} (revision"
        f" {r.revision}{replaced}): {r.keys:,} keys, {r.bytes:,} bytes in {r.transactions}"
        " transactions"
    )


async def run_endpoint(args: argparse.Namespace) -> str:
    url = StoreUrl.parse(args.store)
    change: ChangeResult
    if args.verb == "apply":
        return await run_apply(url, args.file, atomic=args.atomic)
    if args.verb == "add":
        fields: dict[str, object] = {
            "name": args.name,
            "vsid": args.vsid,
            "mac": args.mac,
            "attachment": _attachment(args),
        }
        fields.update({k: getattr(args, k) for k in ("ipv4", "ipv6") if getattr(args, k)})
        ep = _checked(Endpoint, fields)
        async with Etcd(url) as etcd:
            change = await add_endpoint(etcd, url.prefix, ep)
    elif args.verb == "move":
        att = _attachment(args)
        async with Etcd(url) as etcd:
            change = await move_endpoint(etcd, url.prefix, args.name, att)
    else:
        async with Etcd(url) as etcd:
            change = await remove_endpoint(etcd, url.prefix, args.name)
    return f"endpoint {args.name}: {args.verb} done at revision {change.revision}"


async def run_apply(url: StoreUrl, file: str, atomic: bool = False) -> str:
    """Commit the file's changes; one line per change. ChangeRefused (after committing
    the others, unless `atomic`) with every refused change's reasons, so the command
    fails."""
    changes = load_changes(file)
    try:
        async with Etcd(url) as etcd:
            results = await change_endpoints(etcd, url.prefix, changes, atomic=atomic)
    except ValueError as exc:  # an endpoint named twice
        raise OptionError(f"{file}: {exc}") from None
    except ChangeRefused as exc:  # atomic: nothing committed
        raise ChangeRefused([f"{file}: {why}" for why in exc.reasons]) from None
    lines, refused = [], []
    for i, (ch, r) in enumerate(zip(changes, results, strict=True)):
        if isinstance(r, ChangeRefused):
            refused += [f"{file}: {change_label(i, ch)}: {why}" for why in r.reasons]
        else:
            verb = type(ch).__name__.lower()
            lines.append(f"endpoint {ch.name}: {verb} done at revision {r.revision}")
    if refused:
        done = f"{len(lines)} of {len(changes)} changes committed; refused:"
        raise ChangeRefused([*lines, done, *refused])
    transactions = len({r.revision for r in results if isinstance(r, ChangeResult)})
    return "\n".join(
        [*lines, f"{file}: {len(changes)} changes committed in {transactions} transaction(s)"]
    )


def run_store_roles(args: argparse.Namespace) -> str:
    """The roles of the store's prefix as shell lines for an etcd root to run."""
    url = StoreUrl.parse(args.store)
    lines = [
        f"# RBAC roles for the overlay under {url.prefix} (nve.store.rbac); run as etcd's root,",
        "# with the connection flags of your cluster (--endpoints, --cacert, --cert, --key).",
    ]
    lines += [
        " ".join(["etcdctl", *map(shlex.quote, argv)]) for argv in etcdctl_commands(url.prefix)
    ]
    lines += [
        "# then, per user (with --client-cert-auth: the common name of its certificate):",
        f"#   etcdctl user add NAME --no-password && etcdctl user grant-role NAME {role_name('replica', url.prefix)}",
    ]
    return "\n".join(lines)
