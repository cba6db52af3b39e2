"""``@mutable`` behaves as ``@dataclass``, and ``@frozen``'s subclass layout reads a redeclared
class attribute as dataclasses does (join7: both take class creation off the join's start-up)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import pytest

from cobrowse.wire.frozen import frozen, mutable


def outcome(fn: Callable[[], Any]) -> Any:
    try:
        return ("ok", fn())
    except Exception as exc:  # noqa: BLE001 - comparing what each raises
        return (type(exc).__name__, str(exc))


def bucket(deco: Callable[[type], type]) -> type:
    @deco
    class Bucket:
        """A bucket."""

        LIMIT: ClassVar[int] = 3
        rate: float
        tokens: float = 1.0
        seen: dict[str, int] = field(default_factory=dict)
        note: str = field(default="", compare=False, repr=False)

        def take(self) -> bool:
            self.tokens -= 1
            return self.tokens >= 0

    return Bucket


def test_mutable_matches_dataclass() -> None:
    real, lean = bucket(dataclass), bucket(mutable)
    for cls in (real, lean):
        assert cls.__hash__ is None and dataclasses.is_dataclass(cls) and cls.__match_args__ == ("rate", "tokens", "seen", "note")
    assert [(f.name, f.default, f.default_factory, f.compare, f.repr) for f in dataclasses.fields(real)] == \
           [(f.name, f.default, f.default_factory, f.compare, f.repr) for f in dataclasses.fields(lean)]
    calls: list[Callable[[type], Any]] = [
        lambda c: c(2.0), lambda c: c(2.0, 3.0, {"a": 1}, "n"), lambda c: c(rate=1.0, note="x"), lambda c: c(),
        lambda c: c(1.0, 2.0, {}, "", 5), lambda c: c(1.0, bogus=1), lambda c: c(1.0, rate=2.0),
    ]
    for call in calls:
        r, m = outcome(lambda: repr(call(real))), outcome(lambda: repr(call(lean)))
        assert r[0] == m[0] and (r[0] != "ok" or r[1] == m[1])  # errors: the same type (wording as @frozen's)
    a, b = lean(1.0), lean(1.0)
    assert a == b and a.seen is not b.seen and a == lean(1.0, note="other") and a != real(1.0)
    a.tokens = 0.5  # mutable
    assert a != b and a.take() is False and a.tokens == -0.5
    with pytest.raises(TypeError, match="unhashable"):
        hash(a)
    assert dataclasses.replace(b, rate=9.0).rate == 9.0 and dataclasses.asdict(b)["seen"] == {}


def test_mutable_leaves_what_it_does_not_cover_to_dataclasses() -> None:
    @mutable
    class Base:
        a: int = 0

    @mutable
    class Child(Base):  # a dataclass base: dataclasses lays it out
        b: int = 1

    @mutable
    class Hidden:
        a: int = 0
        b: int = field(default=2, init=False)

    assert Child(5, 6) == Child(5, 6) and repr(Child()) == "test_mutable_leaves_what_it_does_not_cover_to_dataclasses.<locals>.Child(a=0, b=1)"
    assert Hidden(1).b == 2 and dataclasses.fields(Hidden)[1].init is False

    class Watched:
        def __setattr__(self, name: str, value: Any) -> None:
            object.__setattr__(self, name, value * 2)

    @mutable
    class Doubled(Watched):  # its own __setattr__: @dataclass's __init__ goes through it
        n: int = 0

    assert Doubled(2).n == 4


def test_a_redeclared_class_attribute_is_laid_out_as_dataclasses_does() -> None:
    """A subclass that annotates a name its base has: with a value of its own (the typed events'
    ``KIND``) both read that value; without one, dataclasses reads the base's, so must we."""
    results = []
    for deco in (dataclass(frozen=True), frozen):
        @deco
        class Event:
            KIND: ClassVar[str] = "event"
            at: float
            who: str = "agent"

        @deco
        class Chat(Event):  # type: ignore[valid-type, misc]
            KIND: ClassVar[str] = "chat"
            who: str = "customer"

        @deco
        class Quiet(Chat):  # type: ignore[valid-type, misc]
            KIND: ClassVar[str]
            who: str  # no value: dataclasses reads Chat's "customer" as its default

        results.append([(cls.KIND, repr(cls(1.0)).split("(", 1)[1], sorted(cls.__dataclass_fields__),
                         [(f.name, f.default) for f in dataclasses.fields(cls)]) for cls in (Chat, Quiet)])
    assert results[0] == results[1]
    assert results[1][1][1] == "at=1.0, who='customer')"
