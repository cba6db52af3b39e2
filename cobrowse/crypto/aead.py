"""AEAD sealing of single frames under one direction key.

The nonce is built from the frame kind and its sequence number, so a key never seals two
different frames under one nonce as long as each (kind, seq) is sealed once; the header
(kind and seq) is authenticated as associated data, so a relay cannot relabel a frame.
"""

from __future__ import annotations

import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from cobrowse.errors import TamperedFrame

HEADER = struct.Struct(">BQ")
TAG_BYTES = 16


def _nonce(kind: int, seq: int) -> bytes:
    return bytes([kind, 0, 0, 0]) + seq.to_bytes(8, "big")


class Sealer:
    """Seals frames for one direction. The caller guarantees each (kind, seq) is used once."""

    def __init__(self, key: bytes) -> None:
        self._aead = ChaCha20Poly1305(key)

    def seal(self, kind: int, seq: int, plaintext: bytes) -> bytes:
        header = HEADER.pack(kind, seq)
        return header + self._aead.encrypt(_nonce(kind, seq), plaintext, header)


class Opener:
    """Opens frames sealed by the peer's Sealer for the same direction."""

    def __init__(self, key: bytes) -> None:
        self._aead = ChaCha20Poly1305(key)

    def open(self, frame: bytes) -> tuple[int, int, bytes]:
        """Return (kind, seq, plaintext); raise TamperedFrame if anything was altered."""
        if len(frame) < HEADER.size + TAG_BYTES:
            raise TamperedFrame("a sealed frame was truncated in transit")
        kind, seq = HEADER.unpack_from(frame)
        try:
            plain = self._aead.decrypt(_nonce(kind, seq), frame[HEADER.size:], frame[: HEADER.size])
        except InvalidTag:
            raise TamperedFrame("a sealed frame failed authentication: it was altered in transit") from None
        return kind, seq, plain
