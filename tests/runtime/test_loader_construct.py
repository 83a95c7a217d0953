"""The loader's own constructor must build exactly what PyYAML's safe loader builds and
hand documents it does not handle (aliases, merge keys, odd tags) to PyYAML unchanged;
the lazily computed line map must equal the one built from the nodes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nve.loader import LineMap, OverlayError, _construct, _Loader, _Unusual, parse_overlay

ROOT = Path(__file__).resolve().parents[2]


def _reference(text: str):
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return loader.construct_document(node), LineMap.from_node(node)
    finally:
        loader.dispose()


def _fast(text: str):
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        assert node is not None
        return _construct(loader, node)
    finally:
        loader.dispose()


DOCS = [
    "a: 1\nb: [0x10, 010, 1_000, '7', yes, off, null, ~, true]\nc: {d: e, 1: f}\n",
    'x:\n  - {name: n, when: 2001-12-14, ratio: 0.5}\n  - plain text\n  - "quoted: yes"\n',
    (ROOT / "examples/two-tor-two-tenants.yaml").read_text(),
]


@pytest.mark.parametrize("text", DOCS)
def test_same_data_and_lines_as_pyyaml(text: str) -> None:
    data = _fast(text)
    ref_data, ref_lines = _reference(text)
    assert data == ref_data
    assert data == yaml.safe_load(text)
    lazy = LineMap.lazy(text)
    assert lazy.positions == {}  # nothing computed until a problem is located
    assert lazy.locate(("nowhere",)) == ref_lines.locate(())
    assert lazy.positions == ref_lines.positions


@pytest.mark.parametrize(
    "text",
    [
        "base: &b {vsid: 0x001001}\nother: *b\n",  # alias
        "base: &b {a: 1}\nother:\n  <<: *b\n  c: 2\n",  # merge key
        "s: !!set {a, b}\n",  # a tag the fast path does not build
    ],
)
def test_unusual_documents_fall_back(text: str) -> None:
    with pytest.raises(_Unusual):
        _fast(text)


def test_fallback_still_loads_and_locates(tmp_path: Path) -> None:
    """A description using an anchor and a merge key loads as PyYAML reads it, and an
    error inside it is still reported at its line."""
    text = (ROOT / "examples/two-tor-two-tenants.yaml").read_text()
    anchored = text + "\nx-defaults: &d {flow_id: false}\nx-again: *d\n"
    with pytest.raises(_Unusual):
        _fast(anchored)
    with pytest.raises(OverlayError) as err:
        parse_overlay(anchored, "f.yaml")
    # the unknown top-level key is reported where it is, on the line we appended
    line = len(text.splitlines()) + 2
    assert any(p.path == ("x-defaults",) and p.line == line for p in err.value.problems), (
        err.value.problems
    )
    assert any(p.path == ("x-again",) for p in err.value.problems), err.value.problems
