"""The help-desk webhook: every session's summary POSTed, signed, retried, never lost.

At ``ended`` the tap writes the summary (``cobrowse.helpdesk.summary``) to a spool in the
data directory (``<data dir>/webhooks/*.json``, 0600) and a background task posts it
(``urllib`` in a worker thread, so the console's event loop never waits on the network)
with ``X-Cobrowse-Signature: sha256=<HMAC>``. A receiver that is down is tried again with
growing waits (``cobrowse.helpdesk.delivery``); what is still in the spool when the
process exits is posted by the next ``cobrowse agent`` run. A receiver that refuses (a
wrong secret: 401) gets the file set aside in ``webhooks/refused/`` and the agent a
warning. Several agent processes may share the spool: each file is locked while it is
being posted, so a summary is posted by one of them (at least once: receivers dedupe on
``X-Cobrowse-Delivery``, the session id). Each file keeps the URL it was spooled for, and a
process posts only the files of its own URL: the others wait for the process configured
with theirs (a summary is never carried to, nor signed for, a URL this process was not
given). A file still in the spool ``MAX_AGE`` after it was spooled, whoever's it is, is
moved to ``webhooks/expired/`` (kept, not posted), so the spool stays bounded.

The secret is never written to disk here; it is read from the settings of the run that
posts.
"""

from __future__ import annotations

import asyncio
import fcntl
import http.client
import json
import os
import random
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from cobrowse import __version__
from cobrowse.helpdesk.delivery import MAX_ATTEMPTS, RETRY_STEPS, Outcome, outcome, refusal_hint, retry_delay
from cobrowse.helpdesk.signature import HEADER, sign
from cobrowse.helpdesk.summary import SessionLedger, SessionSummary, TicketLinked
from cobrowse.io.datadir import data_dir
from cobrowse.policy.events import Event
from cobrowse.policy.keeping_events import Delivery, Keeper, KeepingWarning, WebhookChanged

Emit = Callable[[Event], None]
#: How long one POST may take before it counts as "no answer".
POST_TIMEOUT = 10.0
#: A summary still in the spool this long after it was spooled is taken out (``expired/``).
MAX_AGE = 7 * 86400.0


def spool_dir() -> Path:
    return data_dir() / "webhooks"


@dataclass(frozen=True)
class Item:
    path: Path
    url: str
    session: str
    body: bytes


class Spool:
    """Summaries not yet delivered, one file each, oldest first."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def put(self, url: str, summary: SessionSummary) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = f"{time.time_ns()}-{summary.session}.json"
        tmp = self.folder / f".{name}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"url": url, "session": summary.session, "body": summary.body().decode()}, fh, ensure_ascii=False)
        path = self.folder / name
        os.replace(tmp, path)
        return path

    def pending(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.glob("*.json") if not p.name.startswith("."))

    @staticmethod
    def read(path: Path) -> Item:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Item(path, str(data["url"]), str(data["session"]), str(data["body"]).encode())

    @staticmethod
    def url_of(path: Path) -> str | None:
        """The URL ``path`` was spooled for; None when it cannot be read (the reader sets it aside)."""
        try:
            return str(json.loads(path.read_text(encoding="utf-8"))["url"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    @staticmethod
    def spooled_at(path: Path) -> float:
        """When ``path`` was spooled (wall clock): its name's nanoseconds, else its mtime."""
        try:
            return int(path.name.split("-", 1)[0]) / 1e9
        except ValueError:
            return path.stat().st_mtime

    def set_aside(self, path: Path, folder: str = "refused") -> None:
        aside = self.folder / folder
        aside.mkdir(exist_ok=True, mode=0o700)
        os.replace(path, aside / path.name)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer (3xx: refused), never followed: urllib would turn the POST
    into a GET without the body (and count it delivered), or carry the signed summary to
    another host."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class _Deadline:
    """The whole POST's time limit. urllib's ``timeout`` bounds each read, so a receiver that
    answers a byte every few seconds held a delivery (and the agent's exit, which joins the
    worker thread) for ever; past the limit every connection the POST opened is shut down."""

    def __init__(self, seconds: float) -> None:
        self._connections: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def connection(self, cls: type[http.client.HTTPConnection]) -> Any:
        def make(*args: Any, **kwargs: Any) -> http.client.HTTPConnection:
            made = cls(*args, **kwargs)
            with self._lock:
                self._connections.append(made)
                expired = self._expired
            if expired:
                made.close()
            return made
        return make

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            connections = list(self._connections)
        for made in connections:
            sock = made.sock
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class _HTTP(urllib.request.HTTPHandler):
    def http_open(self, req: Any) -> Any:
        return self.do_open(req.deadline.connection(http.client.HTTPConnection), req)


class _HTTPS(urllib.request.HTTPSHandler):
    def https_open(self, req: Any) -> Any:
        return self.do_open(req.deadline.connection(http.client.HTTPSConnection), req, context=getattr(self, "_context", None))


_opener = urllib.request.build_opener(_NoRedirects, _HTTP, _HTTPS)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = POST_TIMEOUT) -> int | None:
    """One POST (blocking: run it in a thread); the HTTP status, or None when nobody answered
    within ``timeout`` in all."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    with _Deadline(timeout) as deadline:
        request.deadline = deadline  # type: ignore[attr-defined]  # read by _HTTP / _HTTPS
        try:
            with _opener.open(request, timeout=timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError):
            return None


class Webhook:
    """This process's webhook: the URL and secret, the spool, and the delivery task."""

    def __init__(self, url: str, secret: str, *, agent: str = "",
                 spool: Spool | None = None, steps: tuple[float, ...] = RETRY_STEPS,
                 rng: Callable[[], float] = random.random, clock: Callable[[], float] = time.time,
                 max_age: float = MAX_AGE) -> None:
        self.url, self.secret, self.agent = url, secret, agent
        self.spool = spool or Spool(spool_dir())
        self.steps, self.rng, self.clock, self.max_age = steps, rng, clock, max_age
        self.notify: Emit = _nobody  # the latest session's event stream, for warnings
        self._task: asyncio.Task[None] | None = None
        self._told: set[str] = set()
        self._others: set[Path] = set()  # spooled for another URL: never posted by this process
        self._told_others = False
        self._expired_untold = 0  # moved out before a session's stream could be told

    def tap(self, emit: Emit) -> Emit:
        """``emit`` wrapped: at each ``ended``, the summary goes to the spool and out."""
        ledger = SessionLedger(session=uuid.uuid4().hex, agent=self.agent)
        self.notify = emit
        self._tell_spool()

        def tapped(event: Event) -> None:
            emit(event)
            summary = ledger.feed(event, self.clock())
            if summary is not None:
                ledger.session = uuid.uuid4().hex  # the next session of this console gets its own id
                self.queue(summary)

        return tapped

    def queue(self, summary: SessionSummary) -> None:
        try:
            self.spool.put(self.url, summary)
        except OSError as exc:
            self._warn(f"could not keep the session summary for the webhook: {exc}")
            return
        self.notify(WebhookChanged(Delivery.QUEUED, summary.session))
        self.kick()

    def kick(self) -> None:
        """Start delivering the spool in the background (if a loop runs and it is not already)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._deliver_all())

    async def settle(self, timeout: float) -> None:
        """Wait up to ``timeout`` s for the spool to empty (a process about to exit); what is
        left is posted by the next run."""
        task = self._task
        if task is None or task.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except (TimeoutError, asyncio.CancelledError):
            pass
        if not task.done():
            task.cancel()

    def _ours(self, paths: list[Path]) -> list[Path]:
        """Of ``paths``, those this process posts: spooled for its URL (or unreadable: set
        aside when read) and not expired; expired ones (anyone's) are moved out."""
        ours, expired = [], 0
        for path in paths:
            try:
                old = self.clock() - self.spool.spooled_at(path) > self.max_age
            except OSError:
                continue  # gone meanwhile
            if old:
                expired += self._expire(path)
                continue
            if path in self._others:
                continue
            url = self.spool.url_of(path)
            if url is not None and url != self.url:
                self._others.add(path)
                continue
            ours.append(path)
        self._expired_untold += expired
        self._tell_spool()
        return ours

    def _tell_spool(self) -> None:
        """What the spool holds that is not this process's to post, told once a session's
        stream listens (a flush at start has nobody to tell yet)."""
        if self.notify is _nobody:
            return
        others = sum(1 for p in self._others if p.exists())
        if others and not self._told_others:
            self._told_others = True
            self._warn(f"{others} session summar{'y' if others == 1 else 'ies'} in the webhook spool "
                       f"{'was' if others == 1 else 'were'} kept for another webhook URL: left for the agent "
                       f"configured with it (never posted to, nor signed for, {self.url}); "
                       f"moved to {self.spool.folder / 'expired'} after {self.max_age / 86400:g} days")
        expired, self._expired_untold = self._expired_untold, 0
        if expired:
            self._warn(f"{expired} session summar{'y' if expired == 1 else 'ies'} waited in the webhook spool "
                       f"longer than {self.max_age / 86400:g} days and {'was' if expired == 1 else 'were'} moved "
                       f"to {self.spool.folder / 'expired'}, not posted")

    def _expire(self, path: Path) -> int:
        """Move an expired file out of the spool unless another process is posting it (1 if moved)."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return 0
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return 0
            if os.fstat(fd).st_nlink == 0:
                return 0
            self.spool.set_aside(path, "expired")
            self._others.discard(path)
            return 1
        except OSError as exc:
            self._warn(f"cannot move the expired webhook spool file {path.name}: {exc}")
            return 0
        finally:
            os.close(fd)

    async def _deliver_all(self) -> None:
        failures: dict[Path, int] = {}
        while True:
            pending = [p for p in self._ours(self.spool.pending()) if failures.get(p, 0) < MAX_ATTEMPTS]
            if not pending:
                return
            progress = False
            for path in pending:
                try:
                    result = await self._deliver(path)
                except OSError as exc:  # the spool folder itself (permissions, a full disk): keep trying
                    self._warn(f"cannot deliver the webhook spool file {path.name}: {exc}")
                    result = Outcome.RETRY
                if result is Outcome.RETRY:
                    failures[path] = failures.get(path, 0) + 1
                elif result is not None:
                    progress = True
                    failures.pop(path, None)
            if not progress:  # all failed, or held by another process: wait before the next pass
                attempt = max((failures.get(p, 0) for p in pending), default=1) - 1
                await asyncio.sleep(retry_delay(attempt, self.rng, self.steps))

    async def _deliver(self, path: Path) -> Outcome | None:
        """Post one spooled summary unless another process holds it; None: skipped."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return None
            if os.fstat(fd).st_nlink == 0:
                return None  # delivered by another process meanwhile
            try:
                item = self.spool.read(path)
            except (OSError, ValueError, KeyError) as exc:
                self.spool.set_aside(path)
                self._warn(f"a damaged webhook spool file was set aside ({path.name}: {exc})")
                return Outcome.REFUSED
            if item.url != self.url:  # another process's: never signed with this one's secret
                self._others.add(path)
                return None
            headers = {"Content-Type": "application/json", HEADER: sign(self.secret, item.body),
                       "X-Cobrowse-Delivery": item.session, "X-Cobrowse-Event": "session.ended",
                       "User-Agent": f"cobrowse/{__version__}"}
            status = await asyncio.to_thread(post, item.url, item.body, headers)
            result = outcome(status)
            if result is Outcome.DELIVERED:
                path.unlink(missing_ok=True)
                self.notify(WebhookChanged(Delivery.DELIVERED, item.session, status))
            elif result is Outcome.REFUSED and status is not None:
                self.spool.set_aside(path)
                self._warn(f"the webhook receiver {item.url} refused session {item.session} with HTTP {status}: "
                           f"{refusal_hint(status)}; kept in {self.spool.folder / 'refused'}")
            elif item.session not in self._told:
                self._told.add(item.session)
                what = f"HTTP {status}" if status is not None else "no answer"
                self._warn(f"the webhook receiver {item.url} is not taking the session summary ({what}); "
                           "cobrowse keeps trying in the background, and the next run does too")
            return result
        finally:
            os.close(fd)

    def _warn(self, message: str) -> None:
        self.notify(KeepingWarning(Keeper.WEBHOOK, message))


def _nobody(event: Event) -> None:
    """No session's stream yet (a flush at start): warnings wait for one."""


_configured: Webhook | None = None
_ticket: str | None = None


def configure(url: str | None, secret: str | None, *, agent: str = "", ticket: str | None = None) -> Webhook | None:
    """This process's webhook (None: none configured) and the ticket its sessions are linked
    to from the start (``--ticket``); starts posting what a previous run left."""
    global _configured, _ticket
    _configured = Webhook(url, secret, agent=agent) if url and secret else None
    _ticket = ticket
    if _configured is not None:
        _configured.kick()
    return _configured


def tap(emit: Emit) -> Emit:
    """``emit`` through the configured webhook and ticket, or unchanged when there is neither."""
    tapped = _configured.tap(emit) if _configured is not None else emit
    return with_ticket(tapped, _ticket) if _ticket else tapped


def with_ticket(emit: Emit, ticket: str) -> Emit:
    """Links the session to ``ticket`` from the start, as the ``ticket`` command would: the
    history, the webhook and the front end all see the ``ticket`` event."""
    emit(TicketLinked(ticket))
    return emit


async def settle(timeout: float = 5.0) -> None:
    """Before the process exits: give the spool up to ``timeout`` s to empty."""
    if _configured is not None:
        await _configured.settle(timeout)
