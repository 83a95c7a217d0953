"""Load an overlay description from YAML with file:line:col on every error.

YAML's composer keeps the position of every node; we walk the node tree once to
build a map from config path (('tenants', 1, 'vsid')) to its position, then let
pydantic and `nve.validate` report errors by path and translate them to positions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic
import yaml

from nve.gcpause import gc_paused
from nve.loader_strict import strict_problems
from nve.model import Overlay
from nve.problems import ConfigPath, Problem

# libyaml's safe loader when present (10x faster on large descriptions), else the Python one.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_STR, _INT, _BOOL, _NULL = (
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
)
_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"


class _Unusual(Exception):
    """The document uses a YAML feature the fast constructor leaves to PyYAML's."""


def _construct(loader: Any, root: yaml.Node) -> Any:
    """What the safe constructor builds, in one plain walk over the node tree.

    Plain maps, sequences and str/int/bool/null scalars (all a description normally holds)
    are built here; other scalars (floats, timestamps) go to the loader's own constructor.
    Anything else (aliases, merge keys, other tags) raises _Unusual and the caller does
    it the general way, so the result is always exactly what PyYAML's safe loader builds.
    """
    seen: set[int] = set()
    ScalarNode, MappingNode, SequenceNode = yaml.ScalarNode, yaml.MappingNode, yaml.SequenceNode

    def scalar(n: yaml.Node) -> Any:  # a ScalarNode: the callers check type(n)
        tag = n.tag
        if tag == _STR:
            return n.value
        if tag == _INT:
            return loader.construct_yaml_int(n)
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return loader.construct_yaml_bool(n)
        return loader.construct_object(n, deep=True)

    def build(n: yaml.Node) -> Any:
        kind = type(n)
        if kind is ScalarNode:
            return scalar(n)
        if id(n) in seen:
            raise _Unusual  # an alias: shared objects are PyYAML's business
        seen.add(id(n))
        if kind is SequenceNode and n.tag == _SEQ:
            return [build(item) for item in n.value]
        if kind is MappingNode and n.tag == _MAP:
            out: dict[Any, Any] = {}
            for key_node, value_node in n.value:
                if type(key_node) is not ScalarNode or key_node.tag not in (
                    _STR,
                    _INT,
                    _BOOL,
                    _NULL,
                ):
                    raise _Unusual  # merge keys, '=' keys, complex keys
                out[scalar(key_node)] = build(value_node)
            return out
        raise _Unusual

    return build(root)


MAX_NESTING = 64  # a description is at most ~8 levels deep; anything near this is not one
MAX_ALIAS_EXPANSION = 20  # aliases may share parts, not multiply the document


def _refuse_hostile_graph(root: yaml.Node, source: str) -> None:
    """Refuse node graphs no description needs before anything walks them recursively:
    nesting deeper than MAX_NESTING, an alias inside the node it names (a cycle), and
    aliases that expand the document more than MAX_ALIAS_EXPANSION-fold (an "alias bomb").
    Iterative, linear in the composed (unexpanded) graph."""

    def children(n: yaml.Node) -> list[yaml.Node]:
        if isinstance(n, yaml.MappingNode):
            return [x for pair in n.value for x in pair]
        if isinstance(n, yaml.SequenceNode):
            return list(n.value)
        return []

    def refuse(n: yaml.Node, why: str) -> None:
        mark = n.start_mark
        raise OverlayError([Problem((), why, source, mark.line + 1, mark.column + 1)])

    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        n, finished = stack.pop()
        k = id(n)
        if finished:
            kids = children(n)
            size[k] = 1 + sum(size[id(c)] for c in kids)
            depth[k] = 1 + max((depth[id(c)] for c in kids), default=0)
            on_path.discard(k)
            if depth[k] > MAX_NESTING:
                refuse(n, _TOO_DEEP)
            continue
        if k in size:
            continue
        on_path.add(k)
        stack.append((n, True))
        for c in children(n):
            if id(c) in on_path:
                refuse(c, "YAML alias refers to a node that contains it (a cycle)")
            if id(c) not in size:
                stack.append((c, False))
    expanded, distinct = size[id(root)], len(size)
    if expanded > max(100_000, MAX_ALIAS_EXPANSION * distinct):
        refuse(
            root, f"YAML aliases expand {distinct:,} nodes to {expanded:,}: refused (alias bomb?)"
        )


def _refuse_deep_events(text: str, source: str) -> None:
    """Refuse nesting deeper than MAX_NESTING from the event stream, up to the first event
    the YAML library cannot parse. Used on the error path only; stops at the first level
    too deep, so its cost is bounded by the text read up to there. PyYAML's own parser,
    not libyaml's: libyaml's scanner reads ahead and fails at its own limit before the
    events that would show ours."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_NESTING:
                    mark = event.start_mark
                    line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
                    raise OverlayError([Problem((), _TOO_DEEP, source, line, col)])
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return


_TOO_DEEP = f"YAML nested more than {MAX_NESTING} levels deep: not a description"


class OverlayError(Exception):
    """Raised with every problem found; str() gives one line per problem.

    The text is made when asked for, not when raised: a caller that shows only the first
    problems (`nve validate --max-problems`) never formats a million of them."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problems")

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


@dataclass
class LineMap:
    """Config path -> (line, column), 1-based, from the YAML node marks.

    `LineMap.lazy(text)` computes the positions from the text the first time a problem
    is located: a valid 100,000-endpoint description then never holds a million paths
    (about a quarter of a gigabyte) it has no use for.
    """

    positions: dict[ConfigPath, tuple[int, int]] = field(default_factory=dict)
    _text: str | None = field(default=None, repr=False, compare=False)

    @classmethod
    def lazy(cls, text: str) -> LineMap:
        return cls({}, text)

    def locate(self, path: ConfigPath) -> tuple[int, int]:
        """Position of the path, or of its nearest located ancestor (a missing key's parent)."""
        if self._text is not None:
            text, self._text = self._text, None
            self._compute(text)
        for end in range(len(path), -1, -1):
            found = self.positions.get(tuple(path[:end]))
            if found:
                return found
        return (0, 0)

    def _compute(self, text: str) -> None:
        loader = _Loader(text)
        try:
            with gc_paused():
                self.positions = LineMap.from_node(loader.get_single_node()).positions
        finally:
            loader.dispose()

    @classmethod
    def from_node(cls, node: yaml.Node | None) -> LineMap:
        positions: dict[ConfigPath, tuple[int, int]] = {}

        def walk(n: yaml.Node, path: ConfigPath) -> None:
            positions[path] = (n.start_mark.line + 1, n.start_mark.column + 1)
            if isinstance(n, yaml.MappingNode):
                for key_node, value_node in n.value:
                    key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
                    walk(value_node, path + (key,))
            elif isinstance(n, yaml.SequenceNode):
                for index, item in enumerate(n.value):
                    walk(item, path + (index,))

        if node is not None:
            walk(node, ())
        return cls(positions)


@dataclass(frozen=True)
class LoadedOverlay:
    overlay: Overlay
    source: str
    lines: LineMap
    base_dir: Path

    def locate(self, problems: Sequence[Problem]) -> list[Problem]:
        out = []
        for p in problems:
            line, col = self.lines.locate(p.path)
            out.append(Problem(p.path, p.message, self.source, line, col))
        return out


# Shape errors in our words, keyed by pydantic's error type (a stable identifier; its
# messages are not): what a user meets most, and what tests and scripts match on.
_SHAPE_WORDS = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown field: not part of the overlay description",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
}


def shape_problems(
    exc: pydantic.ValidationError, what: str = "the overlay description"
) -> list[Problem]:
    """pydantic's errors as problems at config paths, in our words (`what`: the kind of
    document, for unknown fields)."""
    problems = []
    for err in exc.errors(include_url=False):
        # Drop the union-branch labels pydantic inserts ('PipelineFiles', 'function-before[...]').
        loc = _clean_loc(err["loc"])
        msg = _SHAPE_WORDS.get(err["type"]) or err["msg"]
        if err["type"] == "extra_forbidden":
            msg = f"unknown field: not part of {what}"
        if err["type"] in _SAYS_WHAT_IT_GOT:
            msg += _what_it_got(err.get("input"))
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        problems.append(Problem(loc, msg))
    return _dedupe_union_errors(problems)


# Scalar types checked strictly (a string is not a number, 1.0 not an integer, 1 not
# true): errors of these types say what the description holds instead.
_SAYS_WHAT_IT_GOT = {"int_type", "int_from_float", "float_type", "bool_type"}


def _what_it_got(value: object) -> str:
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f", not the string {shown!r}"
    if isinstance(value, bool | int | float):
        return f", not {str(value).lower() if isinstance(value, bool) else value!r}"
    return ""


# Tags of the discriminated unions in nve.model, which pydantic puts into error paths.
_UNION_TAGS = {"pipeline": {"files", "program"}, "attachment": {"local", "remote"}}


def _clean_loc(loc: tuple[int | str, ...]) -> ConfigPath:
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, str):
            if out and isinstance(out[-1], str) and part in _UNION_TAGS.get(out[-1], ()):
                continue
            if "[" in part or part.startswith("function-"):
                continue
        out.append(part)
    return tuple(out)


def _dedupe_union_errors(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[ConfigPath, str]] = set()
    out = []
    for p in problems:
        if (p.path, p.message) not in seen:
            seen.add((p.path, p.message))
            out.append(p)
    return out


def parse_overlay(
    text: str, source: str = "<string>", base_dir: Path | None = None
) -> LoadedOverlay:
    """Parse YAML text into a checked model (shape only; call nve.validate for the rules)."""
    with gc_paused():  # millions of nodes and models, no cycles: see nve.gcpause
        return _parse_overlay(text, source, base_dir)


def parse_document(text: str, source: str) -> tuple[Any, list[Problem], LineMap]:
    """One YAML document, read within bounds (nesting depth, no alias bombs): the data,
    the strict problems (duplicate keys, version-dependent scalars) and the positions of
    its paths. OverlayError when it cannot be read at all."""
    # One pass: compose (keeping marks for the line map), then construct from that node.
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data: Any = None
        if node is None:
            raise OverlayError([Problem((), "the file is empty", source, 1, 1)])
        _refuse_hostile_graph(node, source)
        strict = strict_problems(node, source)
        try:
            data = _construct(loader, node)
        except _Unusual:
            data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        # A YAML library may refuse deep nesting itself (libyaml and PyYAML >= 6.0.4 do, at
        # depths far beyond ours); the limit that applies is ours, in our words, wherever
        # the library would have stopped.
        _refuse_deep_events(text, source)
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise OverlayError(
            [Problem((), f"YAML syntax: {exc.problem}", source, line, col)]
        ) from None
    except yaml.YAMLError as exc:
        raise OverlayError([Problem((), f"YAML error: {exc}", source)]) from None
    except RecursionError:
        raise OverlayError([Problem((), "YAML nested too deeply to read", source)]) from None
    finally:
        loader.dispose()
    del (
        node
    )  # the node tree is the largest thing a load builds; positions come from the text when needed
    return data, strict, LineMap.lazy(text)


def _parse_overlay(text: str, source: str, base_dir: Path | None) -> LoadedOverlay:
    try:
        data, strict, lines = parse_document(text, source)
    except OverlayError as exc:
        if [p.message for p in exc.problems] == ["the file is empty"]:
            raise OverlayError([Problem((), "the description is empty", source, 1, 1)]) from None
        raise
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise OverlayError(
            [
                Problem(
                    (), "the description must be a mapping (switches:, tenants:, ...)", source, 1, 1
                )
            ]
            + strict
        )
    try:
        # Strict: no string, float or 1/0 read as a number or a boolean (`"10"`, `1500.0`,
        # `y`); the model's own validators still take VSIDs as hex strings.
        overlay = Overlay.model_validate(data, strict=True)
    except pydantic.ValidationError as exc:
        loaded = LoadedOverlay(Overlay(), source, lines, base_dir or Path())
        raise OverlayError(_in_file_order(strict, loaded.locate(shape_problems(exc)))) from None
    if strict:
        raise OverlayError(strict)
    return LoadedOverlay(overlay, source, lines, base_dir or Path())


def _in_file_order(first: list[Problem], then: list[Problem]) -> list[Problem]:
    """Both lists, by position in the file when the first has any (the first ahead on a tie)."""
    if not first:
        return then
    return sorted(first + then, key=lambda p: (p.line, p.column))


def read_source(path: str | Path) -> str:
    """A YAML file's text; OverlayError naming the file when it cannot be read as UTF-8."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except OSError as exc:
        raise OverlayError([Problem((), f"cannot read: {exc.strerror}", str(p))]) from None
    except UnicodeDecodeError as exc:
        raise OverlayError(
            [
                Problem(
                    (), f"not UTF-8 text (byte {exc.start}: {exc.object[exc.start]:#04x})", str(p)
                )
            ]
        ) from None


def load_overlay(path: str | Path) -> LoadedOverlay:
    """Read and shape-check a description file; relative pipeline paths resolve against its folder."""
    p = Path(path)
    return parse_overlay(read_source(p), str(p), p.resolve().parent)
