"""The overlay description: what operators write, as pydantic v2 models.

The models check the shape of each object (types, ranges, address syntax). Rules
that relate objects to each other (references, duplicates, reserved VSIDs, address
families across objects, capacity) live in `nve.validate`, so that every error can
name the exact path in the file and all of them are reported at once.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    PlainValidator,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from nve.mac import Mac
from nve.priority import DscpToPcp, Pcp, PcpToDscp

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface

VSID_MAX = 0xFFFFFF
_NAME_RE = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


def _parse_ip(value: object) -> object:
    if isinstance(value, str):
        try:
            return ipaddress.ip_address(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not an IPv4 or IPv6 address") from None
    return value


def _parse_network(value: object) -> object:
    if isinstance(value, str):
        try:
            return ipaddress.ip_network(value.strip(), strict=True)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a valid prefix ({exc})") from None
    return value


def _parse_interface(value: object) -> object:
    if isinstance(value, str):
        if "/" not in value:
            raise ValueError(f"{value!r} needs a prefix length (address/len)")
        try:
            return ipaddress.ip_interface(value.strip())
        except ValueError as exc:
            raise ValueError(f"{value!r} is not an address/prefix ({exc})") from None
    return value


def _parse_mac(value: object) -> Mac:
    if isinstance(value, Mac):
        return value
    if isinstance(value, str):
        return Mac(value)
    raise ValueError("a MAC address must be a string (quote it in YAML)")


def _parse_vsid(value: object) -> object:
    """VSIDs may be written as integers (YAML reads 0x001000 as one) or hex strings."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text, 0)
        except ValueError:
            raise ValueError(f"{value!r} is not a VSID (an integer such as 0x001000)") from None
    if isinstance(value, bool):
        raise ValueError("a VSID must be an integer")
    return value


Address = Annotated[IPAddress, BeforeValidator(_parse_ip)]
Prefix = Annotated[IPNetwork, BeforeValidator(_parse_network)]
Interface = Annotated[IPInterface, BeforeValidator(_parse_interface)]
MacAddress = Annotated[
    Mac,
    PlainValidator(_parse_mac),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string"}),
]
Vsid = Annotated[int, BeforeValidator(_parse_vsid), Field(ge=0, le=VSID_MAX)]
Name = Annotated[str, Field(pattern=_NAME_RE, max_length=64)]
PortNumber = Annotated[int, Field(ge=0, lt=2**32)]
VlanId = Annotated[int, Field(ge=1, le=4094)]


def _check_address(value: object) -> object:
    if isinstance(value, str) and value.startswith("unix:") and len(value) > len("unix:"):
        return value
    if not isinstance(value, str) or not re.match(
        r"^([^\s:\[\]]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$", value
    ):
        raise ValueError(f"{value!r} is not a gRPC address (host:port, [v6]:port or unix:PATH)")
    return value


def is_local_address(address: str) -> bool:
    """A gRPC address that never leaves the machine: a unix socket, localhost or loopback."""
    if address.startswith("unix:"):
        return True
    host = address.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _pipeline_kind(value: object) -> str:
    keys = value if isinstance(value, dict) else vars(value) if hasattr(value, "__dict__") else {}
    return "program" if "program" in keys else "files"


def _attachment_kind(value: object) -> str:
    keys = value if isinstance(value, dict) else vars(value) if hasattr(value, "__dict__") else {}
    return "remote" if "remote_nve" in keys else "local"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PipelineFiles(_Strict):
    """A pipeline already compiled: P4Info (text or binary) and the target's device config."""

    p4info: str = Field(description="P4Info file (.txtpb/.txt text format, or binary .pb/.bin)")
    device_config: str = Field(
        description="target-specific device config (bmv2 JSON, p4sim JSON, ...)"
    )


class PipelineProgram(_Strict):
    """A P4 program compiled by p4sim's front end when the controller starts."""

    program: str = Field(description="path of the P4_16 main program")
    include_dirs: list[str] = Field(default_factory=list)
    defines: dict[str, str | int] = Field(default_factory=dict)


class PortBinding(_Strict):
    """(port, VLAN) -> VSID without naming endpoints: MACs behind it are learned."""

    vsid: Vsid
    vlan: VlanId | None = None


class Port(_Strict):
    port: PortNumber
    role: Literal["access", "network"]
    mtu: int = Field(
        default=1500, ge=576, le=65535, description="largest IP packet (L3 MTU) leaving this port"
    )
    bindings: list[PortBinding] = Field(
        default_factory=list, description="extra (VLAN -> VSID) bindings of an access port"
    )
    addresses: list[Interface] = Field(
        default_factory=list,
        description="network port: its underlay addresses (address/prefix), carried by the"
        " port's interface in the control-plane host (underlay:)",
    )
    default_pcp: Pcp = Field(
        default=0,
        description="access port: priority (PCP) of untagged frames it receives, and of"
        " decapsulated frames it sends tagged that dscp_to_pcp does not map",
    )
    storm_control_pps: int | None = Field(
        default=None,
        ge=0,
        description="access port: broadcast, unknown unicast and multicast frames per second"
        " it may send into the overlay, the excess dropped (0: no limit; default: the"
        " switch's storm_control_pps)",
    )


class BgpTimers(_Strict):
    keepalive: int = Field(default=3, ge=1, le=65535, description="seconds between keepalives")
    hold: int = Field(
        default=9, ge=3, le=65535, description="seconds without a message before the session drops"
    )

    @model_validator(mode="after")
    def _keepalive_below_hold(self) -> BgpTimers:
        if self.keepalive >= self.hold:
            raise ValueError(
                f"keepalive {self.keepalive} must be shorter than hold {self.hold}"
                " (RFC 4271 suggests a third of it)"
            )
        return self


class BgpBfd(_Strict):
    """BFD (RFC 5880) on every session: a silent link is found in interval_ms x multiplier."""

    interval_ms: int = Field(
        default=100, ge=10, le=60000, description="transmit and receive interval, milliseconds"
    )
    multiplier: int = Field(default=3, ge=2, le=255, description="missed packets before down")


class BgpNeighbor(_Strict):
    """A numbered session (`address`) or an unnumbered one (`port`: BGP over the port's
    IPv6 link-local addresses, the peer found by its router advertisements, IPv4 routes
    with IPv6 next hops as RFC 8950 (formerly 5549) allows; it carries both families)."""

    address: Address | None = Field(
        default=None, description="the peer's address on a network port's subnet"
    )
    port: int | None = Field(
        default=None, ge=0, le=511, description="unnumbered: the network port the peer is on"
    )
    remote_asn: int = Field(ge=1, le=4294967295)
    passive: bool = Field(
        default=False, description="wait for the peer to connect (one side of a session may)"
    )

    @model_validator(mode="after")
    def _address_or_port(self) -> BgpNeighbor:
        if (self.address is None) == (self.port is None):
            raise ValueError("give either address (numbered) or port (unnumbered), not both")
        return self

    @property
    def families(self) -> frozenset[int]:
        """The IP versions this session carries."""
        return frozenset({4, 6}) if self.address is None else frozenset({self.address.version})


class Bgp(_Strict):
    """BGP through FRR in the control-plane host (docs/underlay.md): numbered eBGP
    sessions to the spines, the switch's provider addresses advertised, the routes
    learned installed by the host's kernel and from there in the switch's tables."""

    asn: int = Field(ge=1, le=4294967295, description="this switch's AS number")
    router_id: ipaddress.IPv4Address = Field(description="BGP identifier (an IPv4 address)")
    timers: BgpTimers = Field(default_factory=BgpTimers)
    bfd: BgpBfd | None = Field(default=None, description="run BFD on every session")
    maximum_paths: int = Field(
        default=8, ge=1, le=64, description="equal-cost paths installed per prefix (ECMP)"
    )
    neighbors: list[BgpNeighbor] = Field(min_length=1)
    advertise: list[Prefix] | None = Field(
        default=None,
        description="prefixes announced to every neighbour of their family"
        " (default: the switch's local_pas of the neighbours' families, as /32 and /128)",
    )

    @field_validator("router_id", mode="before")
    @classmethod
    def _router_id(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return ipaddress.IPv4Address(value.strip())
            except ValueError:
                raise ValueError(f"{value!r} is not an IPv4 address") from None
        return value


class Underlay(_Strict):
    """The switch's control-plane host (docs/underlay.md): a namespace whose interfaces
    stand for the network ports, so the kernel answers ARP/ND for the switch's addresses."""

    namespace: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="network namespace name (default nve-SWITCH)",
    )
    bgp: Bgp | None = Field(default=None, description="BGP sessions to the spines, through FRR")


class NextHop(_Strict):
    name: Name
    port: PortNumber
    mac: MacAddress = Field(description="MAC address of the underlay router or neighbour")
    vlan: VlanId | None = Field(default=None, description="outer 802.1Q tag on this hop, if any")


class EcmpGroup(_Strict):
    name: Name
    members: list[Name] = Field(min_length=1, description="next hop names")


class UnderlayRoute(_Strict):
    prefix: Prefix
    via: Name = Field(description="a next hop or an ECMP group of this switch")


class MoveDampening(_Strict):
    """A MAC that moves more than `moves` times within `window_s` seconds stays where it
    was for `hold_s` seconds; further moves are refused and reported."""

    moves: int = Field(default=5, ge=1, le=1000)
    window_s: float = Field(default=10.0, gt=0, le=86400)
    hold_s: float = Field(default=60.0, gt=0, le=86400)


class Learning(_Strict):
    """Bounds on MAC learning (RFC 7637 section 5), per switch; docs/controller.md."""

    max_macs_per_port: int = Field(
        default=0, ge=0, description="learned MACs per access port (0: no limit)"
    )
    max_macs_per_vsid: int = Field(
        default=0, ge=0, description="learned MACs per VSID on this switch (0: no limit)"
    )
    rate_per_s: float = Field(
        default=0, ge=0, description="MACs learned or moved per second, bursts alike (0: no limit)"
    )
    move_dampening: MoveDampening | None = Field(
        default_factory=MoveDampening, description="null: MACs may move without bound"
    )
    over_limit: Literal["forward", "drop"] = Field(
        default="forward",
        description="frames from unknown source MACs on a port or VSID at its limit: forwarded"
        " without learning, or dropped by the switch",
    )


class SwitchTls(_Strict):
    """TLS toward the switch's P4Runtime server (docs/controller.md, "Securing P4Runtime")."""

    ca: str = Field(description="PEM file: the CA that signed the switch's certificate")
    cert: str | None = Field(default=None, description="PEM file: this controller's certificate")
    key: str | None = Field(default=None, description="PEM file: its private key")
    server_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=253,
        description="name to find in the switch certificate's SAN (default: the address's host)",
    )

    @model_validator(mode="after")
    def _cert_and_key(self) -> SwitchTls:
        if (self.cert is None) != (self.key is None):
            raise ValueError("cert and key go together (mutual TLS needs both)")
        return self


class Switch(_Strict):
    name: Name
    address: Annotated[str, BeforeValidator(_check_address)] = Field(
        description="P4Runtime gRPC address host:port"
    )
    device_id: int = Field(
        default=0,
        ge=0,
        lt=2**64,
        description="P4Runtime device id (simple_switch_grpc and p4sim default to 0)",
    )
    tls: SwitchTls | None = Field(
        default=None, description="TLS toward the switch (needed unless the address is local)"
    )
    insecure: bool = Field(
        default=False, description="allow plaintext P4Runtime to a non-loopback address"
    )
    election_id: int = Field(default=1, ge=1, lt=2**128)
    priority: int | None = Field(
        default=None,
        ge=1,
        le=255,  # nve.takeover.PRIORITY_MAX
        description="takeover order when the primary controller leaves: the higher, the"
        " sooner, with election id (highest seen + priority); distinct per controller of a"
        " switch (default: the election id, capped at 255)",
    )
    pipeline: Annotated[
        Annotated[PipelineFiles, Tag("files")] | Annotated[PipelineProgram, Tag("program")],
        Discriminator(_pipeline_kind),
    ]
    pipeline_update: Literal["auto", "reconcile", "replace"] = Field(
        default="auto",
        description="how a changed pipeline is pushed: reconcile = RECONCILE_AND_COMMIT (the"
        " switch keeps what still fits), replace = VERIFY_AND_COMMIT and a full restore;"
        " auto = reconcile for p4sim, replace for other targets (docs/controller.md)",
    )
    nve_mac: MacAddress
    local_pas: list[Address] = Field(min_length=1, description="this NVE's provider addresses")
    cpu_port: PortNumber = Field(
        default=255, description="the target's CPU port (p4sim --cpu-port)"
    )
    mac_ageing_s: int = Field(
        default=300, ge=1, le=86400, description="idle time before a learned MAC is removed"
    )
    learning: Learning = Field(default_factory=Learning)
    underlay: Underlay | None = Field(
        default=None, description="run a control-plane host for the network ports"
    )
    punt_rate_pps: int = Field(
        default=100, ge=0, description="packet-in rate limit per reason (0: unlimited)"
    )
    outer_ttl: int = Field(default=64, ge=1, le=255)
    dscp_mode: Literal["uniform", "pipe", "pcp"] = Field(
        default="uniform",
        description="outer DSCP: uniform (the customer DSCP; pcp_to_dscp for non-IP frames),"
        " pcp (pcp_to_dscp for every frame), pipe (dscp)",
    )
    dscp: int = Field(default=0, ge=0, le=63, description="outer DSCP in pipe mode")
    pcp_to_dscp: PcpToDscp = Field(default_factory=dict)
    dscp_to_pcp: DscpToPcp = Field(default_factory=dict)
    storm_control_pps: int = Field(
        default=0,
        ge=0,
        description="default storm control rate of access ports, frames per second (0: none)",
    )
    ports: list[Port] = Field(default_factory=list)
    next_hops: list[NextHop] = Field(default_factory=list)
    ecmp_groups: list[EcmpGroup] = Field(default_factory=list)
    underlay_routes: list[UnderlayRoute] = Field(default_factory=list)

    @model_validator(mode="after")
    def _secured(self) -> Switch:
        if self.tls is not None and self.insecure:
            raise ValueError("tls and insecure: true exclude each other")
        if self.tls is None and not self.insecure and not is_local_address(self.address):
            raise ValueError(
                f"address {self.address} is not on this machine: P4Runtime to it needs tls"
                " (ca, cert, key) or an explicit insecure: true"
            )
        return self


class Gateway(_Strict):
    """The subnet's router interface, answered by the ARP proxy and used for routing."""

    mac: MacAddress
    ipv4: Interface | None = None
    ipv6: Interface | None = None


class Bum(_Strict):
    mode: Literal["nway", "multicast"] = "nway"
    group: Address | None = Field(
        default=None, description="administratively scoped underlay group (multicast mode)"
    )


class Subnet(_Strict):
    name: Name
    vsid: Vsid
    gateway: Gateway | None = None
    bum: Bum = Field(default_factory=Bum)


class Tenant(_Strict):
    name: Name
    vrf: int = Field(ge=1, lt=2**16, description="routing domain id")
    vpn_gateway: Address | None = Field(
        default=None, description="CA of the tenant's VPN gateway: default route"
    )
    subnets: list[Subnet] = Field(default_factory=list)


class LocalAttachment(_Strict):
    switch: Name
    port: PortNumber
    vlan: VlanId | None = None
    pa: Address | None = Field(
        default=None,
        description="local PA used for this CA (default: the switch's first PA of the outer family)",
    )


class RemoteAttachment(_Strict):
    remote_nve: Name


# Where an endpoint is: a switch port, or behind a remote NVE (told apart by `remote_nve`).
AttachmentField = Annotated[
    Annotated[LocalAttachment, Tag("local")] | Annotated[RemoteAttachment, Tag("remote")],
    Discriminator(_attachment_kind),
]


class Endpoint(_Strict):
    name: Name
    vsid: Vsid
    mac: MacAddress
    ipv4: Address | None = None
    ipv6: Address | None = None
    attachment: AttachmentField


class RemoteNve(_Strict):
    name: Name
    pa: Address
    flow_id: bool = Field(
        default=True,
        description="false for peers that match the whole 32-bit key (Linux gretap, OVS)",
    )
    vsids: list[Vsid] = Field(default_factory=list)


class Route(_Strict):
    tenant: Name
    prefix: Prefix
    endpoint: Name


# The version of the description format this controller writes and reads. A description
# without `version:` is version 1. A controller reads every version up to its own
# (older formats are migrated in memory, CHANGELOG.md says what changed in each) and
# refuses a newer one, naming the key, rather than misread it.
OVERLAY_VERSION = 1


def _check_version(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("the description's version is an integer (1, 2, ...)")
    if value > OVERLAY_VERSION:
        raise ValueError(
            f"version {value} is newer than this nve reads (up to {OVERLAY_VERSION}): "
            "upgrade nve, or write the description for an older version"
        )
    if value < 1:
        raise ValueError("versions start at 1")
    return value


class Overlay(_Strict):
    """The whole description: the single source of truth for every switch."""

    version: Annotated[int, BeforeValidator(_check_version)] = Field(
        default=OVERLAY_VERSION,
        description="format version of this description (CHANGELOG.md); absent means 1",
    )
    switches: list[Switch] = Field(default_factory=list)
    tenants: list[Tenant] = Field(default_factory=list)
    endpoints: list[Endpoint] = Field(default_factory=list)
    remote_nves: list[RemoteNve] = Field(default_factory=list)
    routes: list[Route] = Field(default_factory=list)

    @field_validator("switches", "tenants", "endpoints", "remote_nves", "routes", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        return [] if value is None else value


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the overlay description (exported to docs/)."""
    schema = Overlay.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "nve overlay description"
    return schema
