"""Two libraries pay at import for things cobrowse never uses; a CLI start-up skips them.

* ``import websockets`` runs ``websockets/version.py``, whose first line imports
  ``importlib.metadata`` (with ``email``, ``zipfile``, ``csv``...: ~9 ms) although a released
  websockets never calls it. When the installed file says ``released = True`` and names its
  version on the usual line, ``websockets.version`` is a module holding that version instead.
* ``import spake2`` runs ``spake2/groups.py``, which builds three integer groups (1024, 2048 and
  3072 bits, with a ``pow`` check each: ~9 ms) that only spake2's integer-group parameters use;
  cobrowse uses Ed25519. The installed ``groups.py`` is compiled here without those three
  assignments, and they are built on first access (module ``__getattr__``), so
  ``from spake2.groups import I3072`` still gives the real group. Every function and class is
  the library's own code, compiled from its own file. Its Ed25519 parameters then hash three
  seeds to curve points (~2-3 ms each): all three are made on first use (the symmetric
  handshake uses S only, made by the first handshake rather than at import). The handshake's messages and keys are the same bytes
  (tests/cli/test_lean_imports.py runs both against the unshimmed library).

* ``websockets.asyncio.client`` imports ``websockets.proxy``, whose ``import urllib.request``
  brings ``http.client``, ``email`` and their parsers (~7 ms) for two functions
  (``getproxies``, ``proxy_bypass``) that only run when websockets looks a proxy up itself;
  cobrowse passes its own choice (``proxy=`` on every connect), and the pre-connected socket
  none. The installed ``proxy.py`` runs from its own cached bytecode with a stand-in for
  ``urllib.request`` that loads the real module the first time anything of it is used (it
  was parsed and compiled without that statement at every start before: ~5 ms).

* ``uuid`` (websockets.protocol's connection ids) imports ``platform`` on Linux for one
  ``platform.system()`` call, and ``platform`` compiles ten patterns at import (~2.4 ms). The
  stdlib's own ``uuid`` runs (its cached bytecode) with a stand-in answering ``system()`` as
  ``os.uname().sysname``; the stand-in leaves ``sys.modules`` when uuid is done, so a later
  ``import platform`` is the real module (and uuid's reference loads it on any other use).

Each applies only when its library's file looks exactly as expected; otherwise that file is
run as it is. ``install()`` is called first thing by cobrowse.cli.main.
"""

from __future__ import annotations

import re
import sys
from importlib.machinery import ModuleSpec, PathFinder
from importlib.util import spec_from_file_location
from types import ModuleType
from typing import TYPE_CHECKING, Sequence, cast

if TYPE_CHECKING:
    import ast
    from importlib.abc import Loader

_WEBSOCKETS_VERSION = re.compile(r'^tag = version = commit = "([0-9][0-9A-Za-z.+-]*)"$', re.M)
_RELEASED = re.compile(r"^released = True$", re.M)
_INTEGER_GROUPS = frozenset(("I1024", "I2048", "I3072"))


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (idempotent)."""
    if not any(isinstance(finder, _LeanFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _LeanFinder())


class _LeanFinder:
    """Finds ``websockets.version`` and ``spake2.groups`` where the usual finder would, and
    loads them with :class:`_LeanLoader` (a ``sys.meta_path`` finder by protocol: not
    importlib.abc's class, whose import pulls importlib.resources)."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> ModuleSpec | None:
        if fullname == "uuid":
            return _uuid_spec(path)
        if fullname == "websockets.proxy":
            return _websockets_proxy_spec(path)
        if fullname not in _LOADERS:
            return None
        real = PathFinder.find_spec(fullname, path)
        if real is None or real.origin is None or not real.origin.endswith(".py"):
            return None
        return spec_from_file_location(fullname, real.origin, loader=cast("Loader", _LeanLoader()))


class _LeanLoader:
    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        origin = module.__spec__.origin if module.__spec__ else None
        assert origin is not None
        with open(origin, "rb") as file:
            source = file.read()
        _LOADERS[module.__name__](module, source, origin)


def _load_websockets_version(module: ModuleType, source: bytes, origin: str) -> None:
    text = source.decode("utf-8")
    found = _WEBSOCKETS_VERSION.search(text)
    if found is None or _RELEASED.search(text) is None:
        exec(compile(source, origin, "exec"), module.__dict__)  # not the layout we know: as it is
        return
    module.__dict__.update(
        __all__=["tag", "version", "commit"], released=True,
        tag=found.group(1), version=found.group(1), commit=found.group(1),
    )


def _load_spake2_groups(module: ModuleType, source: bytes, origin: str) -> None:
    import ast  # here: loaded only with spake2 (dataclasses has loaded it by then anyway)

    tree = ast.parse(source, origin)
    deferred: dict[str, ast.expr] = {}
    kept: list[ast.stmt] = []
    for statement in tree.body:
        name = _integer_group_assignment(statement)
        if name is None:
            kept.append(statement)
        else:
            assert isinstance(statement, ast.Assign)
            deferred[name] = statement.value
    if set(deferred) != _INTEGER_GROUPS:
        exec(compile(source, origin, "exec"), module.__dict__)  # not the layout we know: as it is
        return
    tree.body = kept
    namespace = module.__dict__
    exec(compile(tree, origin, "exec"), namespace)

    def build(name: str) -> object:
        expression = deferred.get(name)
        if expression is None:
            raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}")
        value = eval(compile(ast.Expression(expression), origin, "eval"), namespace)
        namespace[name] = value
        return value

    namespace["__getattr__"] = build


def _integer_group_assignment(statement: "ast.stmt") -> str | None:
    """``IXXXX = IntegerGroup(...)`` at the top level: the name, else None."""
    import ast

    if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
        return None
    target, value = statement.targets[0], statement.value
    if not (isinstance(target, ast.Name) and target.id in _INTEGER_GROUPS):
        return None
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "IntegerGroup"):
        return None
    return target.id


_ED25519_PARAMETERS = ("from ..params import _Params\nfrom ..ed25519_group import Ed25519Group\n\n"
                       "ParamsEd25519 = _Params(Ed25519Group)")


def _load_spake2_ed25519(module: ModuleType, source: bytes, origin: str) -> None:
    if source.decode("utf-8").strip() != _ED25519_PARAMETERS:
        exec(compile(source, origin, "exec"), module.__dict__)  # not the file we know: as it is
        return
    from spake2.ed25519_group import Ed25519Group
    from spake2.params import _Params

    class Params(_Params):  # type: ignore[misc, unused-ignore]  # (spake2 has no types: Any under --strict)
        """spake2's parameters with their points made on first use: the symmetric handshake
        cobrowse runs uses S only (each point is ~2-3 ms of pure-Python curve arithmetic), and
        S itself is made by the first handshake (a claimant's, once its upgrade request has
        left: cobrowse.io.joining), not at import. The same points, by the library's own function."""

        def __init__(self, group: object, M: bytes = b"M", N: bytes = b"N", S: bytes = b"symmetric") -> None:
            self.group = group
            self.M_str, self.N_str, self.S_str = M, N, S

        def __getattr__(self, name: str) -> object:
            if name not in ("M", "N", "S"):
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            value = self.group.arbitrary_element(seed=getattr(self, f"{name}_str"))  # type: ignore[attr-defined]
            setattr(self, name, value)
            return value

    module.__dict__.update(_Params=_Params, Ed25519Group=Ed25519Group, ParamsEd25519=Params(Ed25519Group))


class _UrllibRequest(ModuleType):
    """``urllib.request`` while websockets.proxy imports it: the real module (with
    ``http.client``, ``email`` and their parsers, ~7 ms) loads the first time anything of it is
    asked for, and takes the package's ``request`` attribute then."""

    def __getattr__(self, name: str) -> object:
        import importlib

        if sys.modules.get("urllib.request") is self:
            del sys.modules["urllib.request"]
        return getattr(importlib.import_module("urllib.request"), name)


class _WithoutUrllibRequest:
    """The installed ``websockets/proxy.py`` from its own loader (its cached bytecode, nothing
    recompiled), run with :class:`_UrllibRequest` standing in for ``urllib.request``."""

    def __init__(self, loader: Loader) -> None:
        self.loader = loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        import urllib

        stand_in = _UrllibRequest("urllib.request")
        placed = sys.modules.setdefault("urllib.request", stand_in) is stand_in
        if placed:
            urllib.request = stand_in  # type: ignore[attr-defined]  # what ``import urllib.request`` binds
        try:
            self.loader.exec_module(module)
        finally:
            if placed and sys.modules.get("urllib.request") is stand_in:
                del sys.modules["urllib.request"]

    def __getattr__(self, name: str) -> object:
        return getattr(self.loader, name)


def _websockets_proxy_spec(path: Sequence[str] | None) -> ModuleSpec | None:
    """``websockets.proxy`` without ``urllib.request`` at import (websockets looks proxies up
    only when not given one; cobrowse always gives its own choice), while it is not loaded yet."""
    if "urllib.request" in sys.modules:
        return None
    real = PathFinder.find_spec("websockets.proxy", path)
    if real is None or real.loader is None:
        return None
    real.loader = cast("Loader", _WithoutUrllibRequest(real.loader))
    return real


class _PlatformSystem(ModuleType):
    """``platform`` as ``uuid`` reads it at import on Linux: ``system()``, which is
    ``os.uname().sysname`` there (``platform.uname()``'s first field when ``os.uname()`` has
    them all, as Linux's does). Anything else loads the real module and asks it."""

    def system(self) -> str:
        import os

        return os.uname().sysname

    def __getattr__(self, name: str) -> object:
        import importlib

        if sys.modules.get("platform") is self:
            del sys.modules["platform"]
        return getattr(importlib.import_module("platform"), name)


class _WithoutPlatform:
    """The stdlib's own loader for ``uuid`` (its cached bytecode, nothing recompiled), run
    with :class:`_PlatformSystem` standing in for ``platform`` while it executes."""

    def __init__(self, loader: Loader) -> None:
        self.loader = loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        stand_in = _PlatformSystem("platform")
        placed = sys.modules.setdefault("platform", stand_in) is stand_in
        try:
            self.loader.exec_module(module)
        finally:
            if placed and sys.modules.get("platform") is stand_in:
                del sys.modules["platform"]

    def __getattr__(self, name: str) -> object:
        return getattr(self.loader, name)


def _uuid_spec(path: Sequence[str] | None) -> ModuleSpec | None:
    """``uuid`` (websockets.protocol imports it for connection ids) without ``platform``: on
    Linux uuid imports it for one ``platform.system()`` call, and ``platform`` compiles ten
    patterns at import (~2.4 ms of the join's start-up). Only on Linux, and only while
    ``platform`` is not loaded yet; the stand-in stays out of ``sys.modules`` afterwards."""
    if not sys.platform.startswith("linux") or "platform" in sys.modules:
        return None
    real = PathFinder.find_spec("uuid", path)
    if real is None or real.loader is None:
        return None
    real.loader = cast("Loader", _WithoutPlatform(real.loader))
    return real


_LOADERS = {
    "websockets.version": _load_websockets_version,
    "spake2.groups": _load_spake2_groups,
    "spake2.parameters.ed25519": _load_spake2_ed25519,
}
