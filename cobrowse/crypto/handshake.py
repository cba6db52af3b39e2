r"""The pairing handshake: SPAKE2 on the session code, then key confirmation.

A sans-I/O machine. States, named by what is known (as magic-wormhole does)::

    know_code --PAKE message in--> know_key --peer's confirmation valid--> confirmed
                                       \--confirmation invalid--> scared

Each side sends two binary frames: ``PAKE || spake2 message``, then ``CONFIRM || tag`` once it
knows the key. SPAKE2 is bound to the protocol version and the nameplate through its
symmetric identity, and the password is the whole code, so a code for one nameplate is
useless on another. A relay that runs its own PAKE with each side knows neither key and
so cannot produce a valid confirmation: both sides end up ``scared``. One handshake is
one attempt: a wrong guess ends it, and the creator of the session may start a fresh one
(new SPAKE2 randomness, same code) for the next claimant, up to a few attempts per code
(``cobrowse.protocol.session.Session.reset``), which keeps a short code safe online.
"""

from __future__ import annotations

import hmac
from hashlib import sha256
from typing import Any, Callable, NoReturn

from spake2 import SPAKE2_Symmetric
from spake2.spake2 import DefaultParams

from cobrowse import PROTOCOL_VERSION
from cobrowse.crypto.keys import SessionKeys
from cobrowse.crypto.sas import sas_words
from cobrowse.errors import WrongCode
from cobrowse.wire.code import Code
from cobrowse.wire.frozen import frozen

PAKE = 0x01
CONFIRM = 0x02
#: 0x03 and 0x04 are the help queue's (cobrowse.crypto.handshake_queue): a SPAKE2 handshake
#: that receives one fails, as any unknown kind does.
HANDSHAKE_KINDS = (PAKE, CONFIRM, 0x03, 0x04)


@frozen
class Confirmed:
    """The handshake succeeded: both sides hold the same keys."""

    keys: SessionKeys
    sas: str


def _confirmation(keys: SessionKeys, role: str) -> bytes:
    return hmac.new(keys.confirm, f"confirm {role}".encode(), sha256).digest()


class Prepared:
    """SPAKE2's half of ``start`` that does not need the password, done ahead (``cobrowse join``
    does it while the code is typed): a fresh secret scalar drawn from ``entropy`` exactly as
    the library draws it, and the group's generator times it (~1.5 ms of pure-Python curve
    arithmetic). Used by one handshake at most (:meth:`take`); every other attempt draws its
    own. The message sent is the library's, byte for byte: ``start`` is this element plus the
    password's blinding, which :func:`_start` adds with the library's own method."""

    def __init__(self, entropy: Callable[[int], bytes]) -> None:
        group = DefaultParams.group
        DefaultParams.S  # the blinding point, if cobrowse.cli.lean_imports left it for first use
        scalar = group.random_scalar(entropy)
        self._ready: tuple[Any, Any, Any] | None = (group, scalar, group.Base.scalarmult(scalar))

    def take(self) -> tuple[Any, Any, Any] | None:
        """(group, scalar, element) once; None after."""
        ready, self._ready = self._ready, None
        return ready


def _start(pake: SPAKE2_Symmetric, prepared: Prepared | None) -> bytes:
    """``pake.start()``, with its random scalar and its multiple of the generator from
    ``prepared`` when there is one for this group (the rest is the library's code path:
    ``compute_outbound_message``, then the side byte, as spake2 0.9's ``start``)."""
    ready = prepared.take() if prepared is not None else None
    if ready is None or ready[0] is not pake.params.group or pake._started:
        return bytes(pake.start())
    _group, scalar, element = ready
    pake._started = True
    pake.xy_scalar, pake.xy_elem = scalar, element
    pake.compute_outbound_message()
    return bytes(pake.side + pake.outbound_message)


class Handshake:
    """One side of the pairing handshake. Feed frames in, take frames and events out."""

    def __init__(self, role: str, code: Code, entropy: Callable[[int], bytes], *,
                 prepared: Prepared | None = None) -> None:
        """``prepared``: the password-independent half of SPAKE2's first message, made ahead
        (:class:`Prepared`; used once)."""
        if role not in ("agent", "customer"):
            raise ValueError(f"unknown role {role!r}")
        self.role = role
        self.peer_role = "customer" if role == "agent" else "agent"
        self.state = "know_code"
        identity = f"cobrowse/{PROTOCOL_VERSION}/{code.nameplate}".encode()
        self._pake = SPAKE2_Symmetric(code.password, idSymmetric=identity, entropy_f=entropy)
        self._sent: list[bytes] = [bytes([PAKE]) + _start(self._pake, prepared)]
        self._outbox: list[bytes] = list(self._sent)
        self._events: list[Confirmed] = []
        self._keys: SessionKeys | None = None
        self._peer_pake: bytes | None = None

    def data_to_send(self) -> list[bytes]:
        out, self._outbox = self._outbox, []
        return out

    def events_received(self) -> list[Confirmed]:
        out, self._events = self._events, []
        return out

    @property
    def peer_tried(self) -> bool:
        """Whether the peer sent its SPAKE2 message: it then holds our confirmation for its
        guess, so this attempt used up one guess at the code, whatever happens next."""
        return self._peer_pake is not None or self.state == "scared"

    def resend(self) -> None:
        """Queue every frame sent so far again (after a reconnect they may have been lost)."""
        if self.state in ("know_code", "know_key"):
            self._outbox.extend(self._sent)

    def receive_data(self, frame: bytes) -> None:
        """Take one handshake frame from the peer. Raises WrongCode (and turns scared)."""
        if self.state in ("confirmed", "scared") or not frame:
            return
        kind, body = frame[0], bytes(frame[1:])
        if kind == PAKE:
            self._receive_pake(body)
        elif kind == CONFIRM:
            self._receive_confirm(body)
        else:
            self._fail()

    def _receive_pake(self, body: bytes) -> None:
        if self._peer_pake is not None:
            if body == self._peer_pake:
                return  # a resent copy after a reconnect
            self._fail()
        self._peer_pake = body
        if len(body) != len(self._sent[0]) - 1:
            self._fail()  # a cut or padded element may still decode as a point
        try:
            master = self._pake.finish(body)
        except Exception:  # SPAKEError, NotOnCurve, ValueError, AssertionError...: all peer input
            self._fail()
        self._keys = SessionKeys.from_master(master)
        frame = bytes([CONFIRM]) + _confirmation(self._keys, self.role)
        self._sent.append(frame)
        self._outbox.append(frame)
        self.state = "know_key"

    def _receive_confirm(self, body: bytes) -> None:
        if self._keys is None:
            self._fail()
        assert self._keys is not None
        if not hmac.compare_digest(body, _confirmation(self._keys, self.peer_role)):
            self._fail()
        self.state = "confirmed"
        self._events.append(Confirmed(self._keys, sas_words(self._keys.sas)))

    def _fail(self) -> NoReturn:
        self.state = "scared"
        self._outbox.clear()
        raise WrongCode()
