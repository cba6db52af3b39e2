"""relay/wsframes.py: the splitter never loses its place in a client's byte stream. Whatever
the reads' sizes and whenever splitting is switched on or off, websockets receives exactly
the stream minus the binary frames that were taken, and those come out whole and unmasked."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from websockets.protocol import State
from websockets.server import ServerProtocol

from relay.wsframes import BINARY_FIN, Splitter, binary_frame, unmask

REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n"
MAX = 300


def client_frame(first: int, payload: bytes, mask: bytes = b"\x01\x02\x03\x04") -> bytes:
    """A masked client frame (``first``: FIN/RSV/opcode byte)."""
    n = len(payload)
    if n < 126:
        head = bytes((first, 0x80 | n))
    elif n < 1 << 16:
        head = bytes((first, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((first, 0x80 | 127)) + n.to_bytes(8, "big")
    return head + mask + unmask(payload, mask)


frames = st.one_of(
    st.builds(lambda p: (client_frame(BINARY_FIN, p), p), st.binary(max_size=MAX + 40)),  # some over MAX
    st.builds(lambda p: (client_frame(0x81, p), None), st.binary(max_size=200)),  # text
    st.builds(lambda p: (client_frame(0x89, p), None), st.binary(max_size=125)),  # ping
    st.builds(lambda a, b: (client_frame(0x02, a) + client_frame(0x80, b), None),  # a fragmented binary message
              st.binary(max_size=300), st.binary(max_size=300)),
    st.builds(lambda p: (client_frame(0xC2, p), None), st.binary(max_size=50)),  # RSV1: never taken
    st.builds(lambda p: (bytes((BINARY_FIN, len(p))) + p, None), st.binary(max_size=100)),  # unmasked: never taken
)


@settings(max_examples=300, deadline=None)
@given(st.lists(frames, max_size=12), st.lists(st.integers(1, 400), min_size=1, max_size=40),
       st.lists(st.booleans(), min_size=1, max_size=40))
def test_websockets_gets_the_stream_minus_the_frames_taken(
    items: list[tuple[bytes, bytes | None]], cuts: list[int], splits: list[bool],
) -> None:
    stream = REQUEST + b"".join(raw for raw, _ in items)
    starts, at = {}, len(REQUEST)
    for raw, payload in items:
        starts[at] = (raw, payload)
        at += len(raw)
    splitter = Splitter(MAX)
    pieces: list[tuple[bytes, bool]] = []  # (raw, taken)
    pos = i = 0
    while pos < len(stream):
        size = cuts[i % len(cuts)]
        for raw, payload in splitter.feed(stream[pos:pos + size], splits[i % len(splits)]):
            take = payload is not None and len(pieces) % 3 != 2  # now and then the caller declines
            if payload is not None and not take:
                splitter.declined()
            if take:
                done = sum(len(r) for r, _ in pieces)
                assert starts[done] == (raw, payload)  # exactly one whole binary frame, unmasked
            pieces.append((raw, take))
        pos += size
        i += 1
    assert b"".join(raw for raw, _ in pieces) == stream  # nothing lost, nothing repeated, in order
    # websockets' own parser reads the rest as exactly the frames that were not taken
    ws = ServerProtocol(state=State.OPEN, max_size=None)
    ws.receive_data(b"".join(raw for raw, taken in pieces if not taken)[len(REQUEST):])
    events = ws.events_received()
    taken_at = set()
    done = 0
    for raw, taken in pieces:
        if taken:
            taken_at.add(done)
        done += len(raw)
    kept = b"".join(raw for at, (raw, _) in sorted(starts.items()) if at not in taken_at)
    reference = ServerProtocol(state=State.OPEN, max_size=None)
    reference.receive_data(kept)
    assert [(e.opcode, e.data, e.fin) for e in events] == [(e.opcode, e.data, e.fin) for e in reference.events_received()]
    if ws.state is State.OPEN:  # else websockets failed the connection (RSV bits, no mask): counts no longer matter
        assert splitter.messages_given == sum(1 for e in events if e.fin and e.opcode.value < 8)


def test_a_read_holding_one_whole_frame_is_one_piece_taken() -> None:
    splitter = Splitter(MAX)
    assert splitter.feed(REQUEST, False) == [(REQUEST, None)]
    frame = client_frame(BINARY_FIN, b"sealed")
    assert splitter.feed(frame, True) == [(frame, b"sealed")]
    text = client_frame(0x81, b'{"type": "ping"}')
    assert splitter.feed(text + frame, True) == [(text, None), (frame, b"sealed")]
    assert splitter.messages_given == 1


def test_a_frame_split_over_reads_is_kept_back_until_whole() -> None:
    splitter = Splitter(MAX)
    splitter.feed(REQUEST, False)
    frame = client_frame(BINARY_FIN, os.urandom(200))
    assert splitter.feed(frame[:1], True) == []
    assert splitter.feed(frame[1:150], True) == []
    payload = unmask(frame[8:], frame[4:8])  # 126-length header: 2 + 2 bytes, then the mask
    assert splitter.feed(frame[150:], True) == [(frame, payload)]


def test_frames_over_the_limit_and_fragments_go_to_websockets() -> None:
    splitter = Splitter(100)
    splitter.feed(REQUEST, True)
    big = client_frame(BINARY_FIN, b"x" * 101)
    assert splitter.feed(big[:50], True) == [(big[:50], None)]  # passed on at once, never buffered
    assert splitter.feed(big[50:], True) == [(big[50:], None)]
    fragments = client_frame(0x02, b"a") + client_frame(0x89, b"") + client_frame(0x80, b"b")
    assert splitter.feed(fragments, True) == [(fragments, None)]
    assert splitter.messages_given == 2


def test_server_frames() -> None:
    for n in (0, 125, 126, 65535, 65536):
        frame = binary_frame(b"z" * n)
        assert frame[0] == BINARY_FIN and frame.endswith(b"z" * n)
        assert len(frame) == n + (2 if n < 126 else 4 if n < 65536 else 10)
