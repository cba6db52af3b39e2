"""``@frozen`` behaves as ``@dataclass(frozen=True)``: the same class built both ways answers
the same to construction, equality, hashing, repr, assignment and the dataclasses helpers."""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import pytest

from cobrowse.wire.frozen import frozen


@frozen
class Saved:
    name: str
    n: int = 0


@frozen
class SavedChild(Saved):
    extra: int = 0


def pair(body: Callable[[Callable[[type], type]], type]) -> tuple[type, type]:
    return body(dataclass(frozen=True)), body(frozen)


def point(deco: Callable[[type], type]) -> type:
    @deco
    class Point:
        """A point."""

        KIND: ClassVar[str] = "point"
        x: int
        y: int = 0
        tags: tuple[str, ...] = field(default_factory=tuple)
        note: str = field(default="", compare=False, repr=False)

        def norm(self) -> int:
            return abs(self.x) + abs(self.y)

    return Point


def outcome(fn: Callable[[], Any]) -> Any:
    try:
        return ("ok", fn())
    except Exception as exc:  # noqa: BLE001 - comparing what each raises
        return (type(exc).__name__,)


def test_construction_and_errors_match() -> None:
    real, fast = pair(point)
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        ((1,), {}), ((1, 2), {}), ((1, 2, ("a",)), {}), ((1, 2, ("a",), "n"), {}), ((), {"x": 3}),
        ((), {"x": 3, "note": "n"}), ((1,), {"y": 5}), ((), {}), ((1, 2, (), "n", 9), {}),
        ((1,), {"x": 2}), ((1,), {"z": 2}),
    ]
    for args, kwargs in calls:
        a = outcome(lambda: real(*args, **kwargs))
        b = outcome(lambda: fast(*args, **kwargs))
        assert a[0] == b[0], (args, kwargs)
        if a[0] == "ok":
            assert dataclasses.astuple(a[1]) == dataclasses.astuple(b[1])
            assert repr(a[1]).split("(", 1)[1] == repr(b[1]).split("(", 1)[1]


def test_equality_hash_and_frozen() -> None:
    _, fast = pair(point)
    p, q = fast(1, 2, note="a"), fast(1, 2, note="b")
    assert p == q and hash(p) == hash(q)  # note: compare=False
    assert p != fast(1, 3) and p != (1, 2) and {p: 1}[q] == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 5  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del p.x  # type: ignore[misc]
    assert p.norm() == 3 and fast.KIND == "point"
    assert repr(p).endswith("Point(x=1, y=2, tags=())")


def test_dataclass_helpers_work() -> None:
    _, fast = pair(point)
    p = fast(1, 2, ("t",), "n")
    assert dataclasses.is_dataclass(p)
    assert [f.name for f in dataclasses.fields(p)] == ["x", "y", "tags", "note"]
    assert dataclasses.replace(p, y=7) == fast(1, 7, ("t",), "n")
    assert dataclasses.asdict(p) == {"x": 1, "y": 2, "tags": ("t",), "note": "n"}
    assert fast.__match_args__ == ("x", "y", "tags", "note")
    match p:
        case fast(1, y):  # type: ignore[misc]
            assert y == 2
        case _:
            pytest.fail("no match")
    saved = Saved("a", 2)
    assert pickle.loads(pickle.dumps(saved)) == saved


def test_inheritance_with_real_dataclasses() -> None:
    @dataclass(frozen=True)
    class Base:
        a: int

        def total(self) -> int:
            return self.a

    @frozen
    class Mid(Base):
        b: str = ""

    @dataclass(frozen=True)
    class Leaf(Mid):
        c: int = 0

    assert Mid(1, "x") == Mid(a=1, b="x") and Mid(1).total() == 1
    assert Leaf(1, "x", 2).c == 2 and Leaf(1) != Mid(1)
    assert [f.name for f in dataclasses.fields(Leaf)] == ["a", "b", "c"]


def test_own_methods_are_kept() -> None:
    @frozen
    class Named:
        name: str

        def __repr__(self) -> str:
            return f"<{self.name}>"

        def __post_init__(self) -> None:
            if not self.name:
                raise ValueError("empty")

    assert repr(Named("a")) == "<a>"
    with pytest.raises(ValueError):
        Named("")


def test_what_it_does_not_cover_falls_back() -> None:
    @frozen
    class Later:
        a: int
        b: list[int] = field(default_factory=list, init=False)

    assert Later(1).b == [] and Later(1) == Later(1)


def test_a_root_class_is_frozen_as_dataclasses_makes_it() -> None:
    """A class without dataclass bases gets closures for __setattr__/__delattr__ too: the same
    errors, the frozen flag subclasses are checked against, attributes of plain subclasses."""
    real, fast = pair(point)
    assert fast.__dataclass_params__.frozen is True  # type: ignore[attr-defined]
    for cls in (real, fast):
        @dataclass(frozen=True)
        class Frozen(cls):  # type: ignore[valid-type, misc]
            z: int = 0

        assert Frozen(1, z=2).z == 2
        with pytest.raises(TypeError, match="cannot inherit non-frozen dataclass from a frozen one"):
            @dataclass
            class Thawed(cls):  # type: ignore[valid-type, misc]
                w: int = 0

        class Plain(cls):  # type: ignore[valid-type, misc]
            pass

        extra = Plain(1)
        extra.other = 5  # a subclass that is no dataclass may add attributes, not change fields
        del extra.other
    messages = []
    for cls in (real, fast):
        p = cls(1)
        for attempt in (lambda: setattr(p, "x", 2), lambda: setattr(p, "new", 2), lambda: delattr(p, "y"),
                        lambda: delattr(p, "nope"), lambda: setattr(Plain2(cls)(1), "x", 3)):
            try:
                attempt()
            except dataclasses.FrozenInstanceError as exc:
                messages.append((cls is fast, str(exc)))
    assert [m for f, m in messages if f] == [m for f, m in messages if not f] and len(messages) == 10


def Plain2(cls: type) -> type:
    return type("Plain2", (cls,), {})


def family(deco: Callable[[type], type]) -> tuple[type, type, type]:
    """A root, a subclass overriding a default and adding fields, and one below that."""
    @deco
    class Event:
        """An event."""

        KIND: ClassVar[str] = "event"
        at: float
        who: str = "agent"

        def describe(self) -> str:
            return f"{self.KIND} by {self.who}"

    @deco
    class Chat(Event):  # type: ignore[valid-type, misc]
        KIND: ClassVar[str] = "chat"
        who: str = "customer"
        text: str = ""
        tags: tuple[str, ...] = field(default_factory=tuple)
        quiet: bool = field(default=False, compare=False, repr=False)

    @deco
    class Reply(Chat):  # type: ignore[valid-type, misc]
        to: int = 0

    return Event, Chat, Reply


def test_subclasses_of_frozen_classes_match_dataclasses() -> None:
    real, fast = family(dataclass(frozen=True)), family(frozen)
    assert all(c.__dict__.get("__frozen_closures__") for c in fast)  # the fast path did lay them out
    for r, f in zip(real, fast):
        assert [(x.name, x.default, x.default_factory, x.compare, x.repr) for x in dataclasses.fields(r)] == \
               [(x.name, x.default, x.default_factory, x.compare, x.repr) for x in dataclasses.fields(f)]
        assert r.__match_args__ == f.__match_args__ and f.__dataclass_params__.frozen is True
        assert set(r.__dataclass_fields__) == set(f.__dataclass_fields__)  # ClassVar pseudo-fields too
        for name in ("who", "text", "to", "KIND"):
            assert getattr(r, name, None) == getattr(f, name, None)
    _, chat, reply = fast
    c = chat(1.0, text="hi", quiet=True)
    assert c.who == "customer" and c.describe() == "chat by customer" and c == chat(1.0, text="hi")
    assert hash(c) == hash(chat(1.0, text="hi")) and c != reply(1.0, text="hi")
    assert dataclasses.replace(c, text="yo").text == "yo" and dataclasses.asdict(reply(2.0, to=3))["to"] == 3
    assert repr(reply(2.0)) == repr(family(dataclass(frozen=True))[2](2.0))
    assert pickle.loads(pickle.dumps(SavedChild("a", 2, 3))) == SavedChild("a", 2, 3)
    match reply(2.0, "x", "t", (), False, 7):
        case reply(at, who, _, _, _, to):  # type: ignore[misc]
            assert (at, who, to) == (2.0, "x", 7)
        case _:
            pytest.fail("no match")
    messages = []
    for cls in (family(dataclass(frozen=True))[2], reply):
        r = cls(1.0)
        for attempt in (lambda: setattr(r, "to", 2), lambda: setattr(r, "at", 2), lambda: setattr(r, "new", 1),
                        lambda: delattr(r, "who")):
            with pytest.raises(dataclasses.FrozenInstanceError) as err:
                attempt()
            messages.append(str(err.value))
    assert messages[:4] == messages[4:]

    @dataclass(frozen=True)
    class Leaf(reply):  # type: ignore[valid-type, misc]
        extra: int = 0

    assert Leaf(1.0, extra=2).extra == 2 and [x.name for x in dataclasses.fields(Leaf)][-1] == "extra"
    with pytest.raises(TypeError, match="cannot inherit non-frozen dataclass from a frozen one"):
        @dataclass
        class Thawed(reply):  # type: ignore[valid-type, misc]
            more: int = 0


def test_subclass_errors_match_dataclasses() -> None:
    for deco in (dataclass(frozen=True), frozen):
        _, chat, _ = family(deco)
        with pytest.raises(ValueError, match="mutable default"):
            @deco
            class Bad(chat):  # type: ignore[valid-type, misc]
                items: list[int] = []  # noqa: RUF012

        with pytest.raises(TypeError, match="is a field but has no type annotation"):
            @deco
            class Unannotated(chat):  # type: ignore[valid-type, misc]
                extra = field(default=1)


def test_an_inherited_class_attribute_default_is_read_as_dataclasses_does() -> None:
    class Plain:
        who = "from a plain base"

    for deco in (dataclass(frozen=True), frozen):
        event, _, _ = family(deco)

        @deco
        class Mixed(event, Plain):  # type: ignore[valid-type, misc]
            note: str = ""

        assert Mixed(1.0).who == "agent"  # the dataclass base's default comes first in the MRO


def test_below_a_real_frozen_dataclass_base() -> None:
    """The typed events' base is a real frozen dataclass with a ClassVar only: its subclasses
    are laid out here; a non-frozen or InitVar base is left to dataclasses (same errors)."""
    @dataclass(frozen=True)
    class Base:
        KIND: ClassVar[str] = ""

        def kind(self) -> str:
            return self.KIND

    outcomes = []
    for deco in (dataclass(frozen=True), frozen):
        @deco
        class Ping(Base):
            KIND: ClassVar[str] = "ping"
            n: int
            label: str = "x"

        p = Ping(3)
        outcomes.append((p.kind(), dataclasses.astuple(p), repr(p).split("(", 1)[1], Ping.__match_args__,
                         sorted(Ping.__dataclass_fields__), hash(p) == hash(Ping(3)), p == Ping(3, "x")))
    assert outcomes[0] == outcomes[1]

    @dataclass
    class Thawed:
        a: int = 0

    for deco in (dataclass(frozen=True), frozen):
        with pytest.raises(TypeError, match="cannot inherit frozen dataclass from a non-frozen one"):
            @deco
            class Frosted(Thawed):
                b: int = 0
