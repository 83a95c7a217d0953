"""Store addresses and key parts (no etcd needed)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from nve.store.keys import Root, part, unpart
from nve.store.url import StoreTls, StoreUrl, StoreUrlError


@pytest.mark.parametrize(
    ("text", "host", "port", "prefix"),
    [
        ("etcd://127.0.0.1:2379", "127.0.0.1", 2379, "/nve"),
        ("etcd://localhost:2379/", "localhost", 2379, "/nve"),
        ("etcd://[::1]:2379/dc1/overlay", "::1", 2379, "/dc1/overlay"),
    ],
)
def test_store_addresses(text: str, host: str, port: int, prefix: str) -> None:
    url = StoreUrl.parse(text)
    assert (url.host, url.port, url.prefix) == (host, port, prefix)
    assert StoreUrl.parse(str(url)) == url


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("http://127.0.0.1:2379", "is not a store address"),
        ("etcd://127.0.0.1", "is not a store address"),
        ("etcd://127.0.0.1:70000", "port 70000 is out of range"),
        ("etcd://127.0.0.1:2379/a b", "is not a store address"),
        ("etcd://127.0.0.1:2379/a/%2F", "prefix part '%2F' may hold only"),
        ("etcd://127.0.0.1:2379/nve?ca=x.pem", "parameters are for etcds://"),
        ("etcds://127.0.0.1:2379/nve?cafile=x.pem", "unknown parameter 'cafile'"),
        ("etcds://127.0.0.1:2379/nve?ca=a&ca=b", "parameter 'ca' given twice"),
        ("etcds://127.0.0.1:2379/nve?cert=c.pem", "needs both cert and key"),
        ("etcds://127.0.0.1:2379/nve?ca=", "parameter 'ca' names no file"),
    ],
)
def test_bad_store_addresses_say_why(text: str, why: str) -> None:
    with pytest.raises(StoreUrlError, match=why):
        StoreUrl.parse(text)


def test_tls_store_addresses() -> None:
    url = StoreUrl.parse("etcds://etcd1.example:2379/dc1?ca=pki/ca.pem&cert=r1.crt&key=r1.key")
    assert (url.host, url.port, url.prefix) == ("etcd1.example", 2379, "/dc1")
    assert url.tls == StoreTls(Path("pki/ca.pem"), Path("r1.crt"), Path("r1.key"))
    assert StoreUrl.parse(str(url)) == url
    plain_roots = StoreUrl.parse("etcds://10.0.0.5:2379")
    assert plain_roots.tls == StoreTls() and str(plain_roots) == "etcds://10.0.0.5:2379/nve"
    assert StoreUrl.parse("etcd://10.0.0.5:2379").tls is None


def test_several_members_of_one_cluster() -> None:
    url = StoreUrl.parse("etcd://10.0.0.5:2379,10.0.0.6:2379,[fd00::7]:2379/dc1")
    assert url.endpoints == (("10.0.0.5", 2379), ("10.0.0.6", 2379), ("fd00::7", 2379))
    assert (url.host, url.port, url.prefix) == ("10.0.0.5", 2379, "/dc1")
    assert StoreUrl.parse(str(url)) == url
    with pytest.raises(StoreUrlError, match="port 99999 is out of range"):
        StoreUrl.parse("etcd://10.0.0.5:2379,10.0.0.6:99999")


def test_key_parts_keep_prefixes_and_addresses_whole() -> None:
    gen = Root("/nve").generation("g1")
    net = ipaddress.ip_network("2001:db8::/32")
    key = gen.route("blue", net)
    assert key == b"/nve/gen/g1/routes/blue/2001:db8::%2F32"
    assert unpart(key.decode().rsplit("/", 1)[1]) == str(net)
    assert part("a%b") == "a%25b" and unpart(part("a%b")) == "a%b"
    assert gen.mac(0x1001, "52:54:00:b1:00:01") == b"/nve/gen/g1/idx/mac/001001/52:54:00:b1:00:01"
