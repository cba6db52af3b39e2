"""``@frozen``: a frozen dataclass that is cheaper to create at import time.

``@dataclass(frozen=True)`` compiles six small functions per class (``__init__``,
``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__``, ``__delattr__``): ~0.35 ms a class
on this project's VM, and the customer's join imported ~200 of them before its first packet
(bench/join_latency.py's ``connect``). Here ``dataclasses`` still builds the class (fields,
``fields()``, ``replace()``, ``asdict()``, ``__match_args__``, the frozen ``__setattr__``),
but ``__init__``, ``__repr__``, ``__eq__`` and ``__hash__`` are closures over the field names,
not compiled source: ~0.13 ms a class. The result behaves as ``@dataclass(frozen=True)``
does (same equality, hash, repr, errors on assignment); construction costs ~1 µs more.

Classes with what the closures do not cover (``InitVar``, keyword-only or ``init=False`` fields) are left to
``dataclasses`` unchanged.
"""

from __future__ import annotations

import abc
import dataclasses
from operator import attrgetter
from typing import Any, Callable, TypeVar, cast, dataclass_transform

_T = TypeVar("_T", bound=type)
_MISSING: Any = dataclasses.MISSING


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def frozen(cls: _T) -> _T:
    """Make ``cls`` a frozen dataclass, as ``@dataclass(frozen=True)`` does."""
    own = cls.__dict__.get("__annotations__", {})
    if any("InitVar" in str(t) or "KW_ONLY" in str(t) for t in own.values()) or any(
            isinstance(v, dataclasses.Field) and (v.kw_only is True or not v.init) for v in cls.__dict__.values()):
        return cast(_T, dataclasses.dataclass(frozen=True)(cls))
    doc = cls.__dict__.get("__doc__")
    if not doc:
        cls.__doc__ = "-"  # keeps dataclasses from calling inspect.signature (slow; ours is generic)
    # The frozen __setattr__/__delattr__ are closures too (their exec is most of what is left of
    # @dataclass's cost), then dataclasses' frozen flag is set, which real @dataclass subclasses
    # are checked against. dataclasses refuses a non-frozen class below a frozen one, so a
    # subclass of @frozen classes is laid out by dataclasses on a stand-in without bases
    # (_below_frozen); below any other dataclass it makes them itself (frozen=True).
    own_setattr = "__setattr__" in cls.__dict__ or "__delattr__" in cls.__dict__
    bases = [base for base in cls.__mro__[1:] if "__dataclass_fields__" in base.__dict__]
    fast = not own_setattr and all(_plain_frozen(base) for base in bases)
    if fast and bases:
        made: Any = _below_frozen(cls, bases)
    else:
        made = dataclasses.dataclass(init=False, repr=False, eq=False, frozen=not fast)(cls)
    fields = dataclasses.fields(made)
    if fast:
        names = frozenset(f.name for f in fields)
        _set(made, "__setattr__", _frozen_setattr(made, names))
        _set(made, "__delattr__", _frozen_delattr(made, names))
        made.__dataclass_params__.frozen = True
        setattr(made, _FAST, True)
    if not doc:
        made.__doc__ = f"{made.__name__}({', '.join(f.name for f in fields)})"
    _set(made, "__init__", _init([f for f in fields if f.init], made.__qualname__,
                                  getattr(made, "__post_init__", None) is not None))
    _set(made, "__repr__", _repr(tuple(f.name for f in fields if f.repr)))
    compared = tuple(f.name for f in fields if f.compare)
    _set(made, "__eq__", _eq(compared))
    if "__hash__" not in cls.__dict__ or cls.__dict__["__hash__"] is None:
        _set(made, "__hash__", _hash(tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))))
    return cast(_T, made)


@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
def mutable(cls: _T) -> _T:
    """Make ``cls`` a plain (mutable) dataclass, as ``@dataclass`` does, its ``__init__``,
    ``__repr__`` and ``__eq__`` closures as :func:`frozen`'s (``@dataclass`` compiles three
    functions per class with ``exec``: ~0.3 ms). Unhashable, as ``@dataclass`` makes a class
    with ``__eq__``. A base that is a dataclass, or what the closures do not cover (as for
    :func:`frozen`), goes to ``dataclasses`` unchanged."""
    own = cls.__dict__.get("__annotations__", {})
    if (any("__dataclass_fields__" in base.__dict__ for base in cls.__mro__[1:])
            or getattr(cls, "__setattr__") is not object.__setattr__  # @dataclass's __init__ assigns through it
            or any("InitVar" in str(t) or "KW_ONLY" in str(t) for t in own.values())
            or any(isinstance(v, dataclasses.Field) and (v.kw_only is True or not v.init) for v in cls.__dict__.values())):
        return cast(_T, dataclasses.dataclass(cls))
    doc = cls.__dict__.get("__doc__")
    if not doc:
        cls.__doc__ = "-"  # keeps dataclasses from calling inspect.signature
    made: Any = dataclasses.dataclass(init=False, repr=False, eq=False)(cls)
    fields = dataclasses.fields(made)
    if not doc:
        made.__doc__ = f"{made.__name__}({', '.join(f.name for f in fields)})"
    _set(made, "__init__", _init([f for f in fields if f.init], made.__qualname__,
                                  getattr(made, "__post_init__", None) is not None))
    _set(made, "__repr__", _repr(tuple(f.name for f in fields if f.repr)))
    _set(made, "__eq__", _eq(tuple(f.name for f in fields if f.compare)))
    if "__hash__" not in cls.__dict__:
        made.__hash__ = None
    return cast(_T, made)


def _set(cls: type, name: str, fn: Callable[..., Any]) -> None:
    if name in cls.__dict__ and cls.__dict__[name] is not None:
        return  # the class defines its own, as dataclasses leaves it
    fn.__qualname__ = f"{cls.__qualname__}.{name}"
    setattr(cls, name, fn)


#: Set on the classes @frozen laid out itself: their subclasses may be laid out so too.
_FAST = "__frozen_closures__"


def _plain_frozen(base: type) -> bool:
    """A dataclass base a subclass can be laid out below without dataclasses' own pass: made
    here, or a frozen dataclass with plain fields only (no InitVar, no keyword-only)."""
    if base.__dict__.get(_FAST):
        return True
    params = base.__dict__.get("__dataclass_params__")
    if params is None or not params.frozen:
        return False
    plain = dataclasses.fields(base)
    if any(f.kw_only is True or not f.init for f in plain):
        return False
    pseudo = [f for name, f in base.__dict__["__dataclass_fields__"].items() if name not in {p.name for p in plain}]
    return all("ClassVar" in str(f.type) and "InitVar" not in str(f.type) for f in pseudo)


def _below_frozen(cls: type, bases: list[type]) -> type:
    """Lay out ``cls`` (all of its dataclass bases :func:`_plain_frozen`) as dataclasses would,
    without its frozen check: its own fields come from ``dataclasses`` run on a stand-in class
    holding ``cls``'s namespace and no bases (defaults, ``field()``, ClassVar, the mutable
    default and unannotated ``field()`` errors), after the bases' fields, as dataclasses
    orders them. What a stand-in could get wrong is left to dataclasses: an annotation with no
    value of its own that a base has a class attribute for (dataclasses reads the inherited one),
    ``__slots__``, a metaclass, descriptors that learn their owner (``__set_name__``)."""
    namespace = {k: v for k, v in cls.__dict__.items() if k not in ("__dict__", "__weakref__")}
    if (type(cls) is not type or "__slots__" in namespace
            or any(_inherited(cls, name, namespace) for name in namespace.get("__annotations__", {}))
            or any(hasattr(type(v), "__set_name__") and not isinstance(v, dataclasses.Field) for v in namespace.values())):
        return dataclasses.dataclass(init=False, repr=False, eq=False, frozen=True)(cls)  # as dataclasses does it
    stand_in: Any = dataclasses.dataclass(init=False, repr=False, eq=False)(type(cls.__name__, (), namespace))
    fields: dict[str, dataclasses.Field[Any]] = {}
    for base in reversed(bases):
        fields.update(base.__dict__["__dataclass_fields__"])
    own = stand_in.__dict__["__dataclass_fields__"]
    fields.update(own)
    for name, f in own.items():
        if isinstance(cls.__dict__.get(name), dataclasses.Field):
            if f.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, f.default)
    for name, value in stand_in.__dict__.items():  # what this Python's dataclasses adds (3.13: __replace__)
        if name not in namespace and name not in ("__dataclass_fields__", "__match_args__", "__weakref__", "__dict__"):
            setattr(cls, name, value)
    setattr(cls, "__dataclass_fields__", fields)
    if "__match_args__" not in namespace:
        setattr(cls, "__match_args__", tuple(f.name for f in dataclasses.fields(cls)))
    abc.update_abstractmethods(cls)
    return cls


def _inherited(cls: type, name: str, namespace: dict[str, Any]) -> bool:
    """Whether dataclasses would read ``name``'s default from a base: an annotation without a
    value of its own (``KIND: ClassVar[str] = "chat"`` below a base's ``KIND`` has one, read
    the same both ways; 20 of the join's event classes are so)."""
    if name in namespace and not hasattr(type, name):
        return False
    return any(hasattr(base, name) for base in cls.__mro__[1:])


def _frozen_setattr(owner: type, names: frozenset[str]) -> Callable[[object, str, Any], None]:
    """``dataclasses``' frozen ``__setattr__``: fields never, other names on subclasses only."""
    def __setattr__(self: object, name: str, value: Any) -> None:
        if type(self) is owner or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(owner, self).__setattr__(name, value)  # type: ignore[arg-type]  # (mypy misreads super() in a closure)

    return __setattr__


def _frozen_delattr(owner: type, names: frozenset[str]) -> Callable[[object, str], None]:
    def __delattr__(self: object, name: str) -> None:
        if type(self) is owner or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(owner, self).__delattr__(name)  # type: ignore[arg-type]

    return __delattr__


def _init(fields: list[dataclasses.Field[Any]], qualname: str, post_init: bool) -> Callable[..., None]:
    names = tuple(f.name for f in fields)
    known = frozenset(names)
    specs: tuple[tuple[str, Any, Any], ...] = tuple((f.name, f.default, f.default_factory) for f in fields)
    count = len(names)
    setter = object.__setattr__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) == count and not kwargs:
            for name, value in zip(names, args):
                setter(self, name, value)
        else:
            if len(args) > count:
                raise TypeError(f"{qualname}.__init__() takes {count + 1} positional arguments but {len(args) + 1} were given")
            for name in kwargs:
                if name not in known:
                    raise TypeError(f"{qualname}.__init__() got an unexpected keyword argument {name!r}")
            given = len(args)
            missing = []
            for i, (name, default, factory) in enumerate(specs):
                if i < given:
                    if name in kwargs:
                        raise TypeError(f"{qualname}.__init__() got multiple values for argument {name!r}")
                    value = args[i]
                elif name in kwargs:
                    value = kwargs[name]
                elif default is not _MISSING:
                    value = default
                elif factory is not _MISSING:
                    value = factory()
                else:
                    missing.append(name)
                    continue
                setter(self, name, value)
            if missing:
                listed = ", ".join(repr(m) for m in missing)
                raise TypeError(f"{qualname}.__init__() missing {len(missing)} required argument{'s' if len(missing) > 1 else ''}: {listed}")
        if post_init:
            self.__post_init__()

    return __init__


def _repr(names: tuple[str, ...]) -> Callable[[Any], str]:
    def __repr__(self: Any) -> str:
        return f"{type(self).__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in names)})"

    return __repr__


def _values(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The fields' values as one tuple (what the generated methods compare and hash)."""
    if not names:
        return lambda self: ()
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda self: (one(self),)
    return attrgetter(*names)


def _eq(names: tuple[str, ...]) -> Callable[[Any, object], Any]:
    values = _values(names)

    def __eq__(self: Any, other: object) -> Any:
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    return __eq__


def _hash(names: tuple[str, ...]) -> Callable[[Any], int]:
    values = _values(names)

    def __hash__(self: Any) -> int:
        return hash(values(self))

    return __hash__
