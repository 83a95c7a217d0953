"""P4 types in the IR: frozen, hashable and comparable by value; typedefs are resolved
away."""

from __future__ import annotations

from dataclasses import dataclass, field

from .annotations import Annotation


class Type:
    """Base class of all P4 types. Subclasses are frozen (hashable, comparable by value)."""

    @property
    def width(self) -> int | None:
        """Bit width for fixed-width scalar types; None otherwise."""
        return None


@dataclass(frozen=True)
class BitsType(Type):
    """bit<W> (signed=False) or int<W> (signed=True)."""

    size: int
    signed: bool = False

    @property
    def width(self) -> int:
        return self.size

    def __str__(self) -> str:
        return f"{'int' if self.signed else 'bit'}<{self.size}>"


@dataclass(frozen=True)
class VarbitType(Type):
    """varbit<W>: a field of dynamic length up to max_width bits."""

    max_width: int

    def __str__(self) -> str:
        return f"varbit<{self.max_width}>"


@dataclass(frozen=True)
class BoolType(Type):
    @property
    def width(self) -> int:
        return 1

    def __str__(self) -> str:
        return "bool"


@dataclass(frozen=True)
class InfIntType(Type):
    """The type of an untyped integer literal or constant ("int", arbitrary precision)."""

    def __str__(self) -> str:
        return "int"


@dataclass(frozen=True)
class StringType(Type):
    def __str__(self) -> str:
        return "string"


@dataclass(frozen=True)
class VoidType(Type):
    def __str__(self) -> str:
        return "void"


@dataclass(frozen=True)
class DontCareType(Type):
    """The type of `_` (in select cases, entries and out arguments)."""

    def __str__(self) -> str:
        return "_"


@dataclass(frozen=True)
class ErrorType(Type):
    """The `error` type; its members are numbered in declaration order (NoError = 0).

    There is one error type: `members` (the program's error constants as far as they were
    declared when the type was referenced) does not take part in comparisons."""

    members: tuple[str, ...] = field(default=(), compare=False)

    def __str__(self) -> str:
        return "error"


@dataclass(frozen=True)
class MatchKindType(Type):
    def __str__(self) -> str:
        return "match_kind"


@dataclass(frozen=True)
class EnumType(Type):
    """A P4 enum. Serializable enums (`enum bit<8> E {...}`) have an underlying BitsType and
    explicit values; plain enums have underlying None and values = declaration index."""

    name: str
    members: tuple[str, ...]
    values: tuple[int, ...]
    underlying: BitsType | None = None

    @property
    def width(self) -> int | None:
        return self.underlying.size if self.underlying else None

    def value_of(self, member: str) -> int:
        return self.values[self.members.index(member)]

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Field:
    """A field of a header or struct. `offset` is the bit offset from the start of the header
    (MSB first, the first field at offset 0); for structs it is the offset in the flattened
    bit layout (only meaningful when all fields are fixed-width)."""

    name: str
    type: Type
    offset: int
    annotations: tuple[Annotation, ...] = ()

    @property
    def width(self) -> int | None:
        return self.type.width


@dataclass(frozen=True)
class HeaderType(Type):
    """A header type. `bit_width` is the fixed part (a varbit field counts 0);
    `varbit_field` names the (single) varbit field, if any."""

    name: str
    fields: tuple[Field, ...]
    annotations: tuple[Annotation, ...] = ()

    @property
    def bit_width(self) -> int:
        return sum(f.type.width or 0 for f in self.fields)

    @property
    def byte_width(self) -> int:
        return (self.bit_width + 7) // 8

    @property
    def varbit_field(self) -> str | None:
        for f in self.fields:
            if isinstance(f.type, VarbitType):
                return f.name
        return None

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def has_annotation(self, name: str) -> bool:
        return any(a.name == name for a in self.annotations)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class StructType(Type):
    name: str
    fields: tuple[Field, ...]
    annotations: tuple[Annotation, ...] = ()

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def bit_width(self) -> int:
        total = 0
        for f in self.fields:
            t = f.type
            total += t.bit_width if isinstance(t, (StructType, HeaderType)) else (t.width or 0)
        return total

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class HeaderStackType(Type):
    element: HeaderType
    size: int

    def __str__(self) -> str:
        return f"{self.element.name}[{self.size}]"


@dataclass(frozen=True)
class TupleType(Type):
    """tuple<...> and the type of list expressions `{a, b}`."""

    elements: tuple[Type, ...]

    def __str__(self) -> str:
        return "tuple<" + ", ".join(map(str, self.elements)) + ">"


@dataclass(frozen=True)
class ExternType(Type):
    """An instantiated extern object type, e.g. counter, register<bit<32>, bit<32>>."""

    name: str
    type_args: tuple[Type, ...] = ()

    def __str__(self) -> str:
        if not self.type_args:
            return self.name
        return f"{self.name}<{', '.join(map(str, self.type_args))}>"


@dataclass(frozen=True)
class PacketInType(Type):
    """packet_in (the parser's packet)."""

    def __str__(self) -> str:
        return "packet_in"


@dataclass(frozen=True)
class PacketOutType(Type):
    """packet_out (the deparser's packet)."""

    def __str__(self) -> str:
        return "packet_out"


def width_of(t: Type) -> int | None:
    """Bit width of a scalar type (bool = 1, serializable enum = underlying width)."""
    return t.width
