"""aiortc plumbing: peer connections built from the relay's ICE servers, offers and answers.

aiortc gathers every candidate before ``setLocalDescription`` returns, so one offer and one
answer (sealed, through the relay) are the whole signalling: no trickle ICE.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import aioice.ice
from aiortc import (RTCConfiguration, RTCIceServer, RTCIceTransportPolicy, RTCPeerConnection, RTCRtpSender,
                    RTCSessionDescription)

HOSTS_ENV = "COBROWSE_ICE_HOSTS"
_aioice_host_addresses = aioice.ice.get_host_addresses


def ice_servers(entries: Sequence[dict[str, Any]]) -> list[RTCIceServer]:
    """The relay's ``ice_servers`` list (RTCIceServer-shaped dicts) as aiortc objects.

    Always an explicit list, possibly empty: aiortc's default adds a public STUN server,
    which a locked-down network cannot reach and an organisation may not want contacted."""
    servers = []
    for entry in entries:
        urls = entry.get("urls")
        if isinstance(urls, str):
            urls = [urls]
        if not isinstance(urls, list) or not urls:
            continue
        servers.append(RTCIceServer(urls=[str(u) for u in urls], username=entry.get("username"),
                                    credential=entry.get("credential")))
    return servers


def restrict_host_addresses(addresses: Sequence[str] | None) -> None:
    """Offer host candidates only on these local addresses (None: every interface but loopback).

    For a machine with interfaces that must not carry calls (a VPN, a management network),
    and for two peers on one machine, which aioice would otherwise never pair over 127.0.0.1.
    aioice reads its host list from a module function, so this applies process-wide."""
    if addresses is None:
        env = os.environ.get(HOSTS_ENV, "").strip()
        addresses = [a.strip() for a in env.split(",") if a.strip()] if env else None
    if addresses is None:
        aioice.ice.get_host_addresses = _aioice_host_addresses
        return
    chosen = list(addresses)

    def host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in chosen if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = host_addresses


def peer_connection(entries: Sequence[dict[str, Any]], hosts: Sequence[str] | None, *,
                    relay_only: bool = False) -> RTCPeerConnection:
    """``relay_only``: offer TURN candidates only, so the peer never learns this machine's
    addresses (with no TURN server there are no candidates and no connection)."""
    restrict_host_addresses(hosts)
    policy = RTCIceTransportPolicy.RELAY if relay_only else RTCIceTransportPolicy.ALL
    return RTCPeerConnection(RTCConfiguration(iceServers=ice_servers(entries), iceTransportPolicy=policy))


def add_voice(pc: RTCPeerConnection, track: Any) -> None:
    """Send ``track`` and receive the peer's, Opus only: speech at 48 kHz, with its own
    packet-loss concealment; no fallback to 8 kHz G.711 that aiortc would otherwise offer."""
    pc.addTrack(track)
    opus = [c for c in RTCRtpSender.getCapabilities("audio").codecs if c.mimeType.lower() == "audio/opus"]
    for transceiver in pc.getTransceivers():
        if transceiver.kind == "audio":
            transceiver.setCodecPreferences(opus)


def set_audio_buffer(pc: RTCPeerConnection, frames: int) -> bool:
    """Hold ``frames`` packets (20 ms each) in the receive jitter buffer instead of aiortc's 4.

    aiortc 1.16 fixes the prefetch at 4 packets, 60–80 ms of every call's delay, and offers
    no setting, so this replaces the (private) buffer before the first packet arrives; with
    another aiortc it changes nothing and says so (False). 2 frames keep one packet of
    reordering in hand and halve mouth-to-ear delay (docs/benchmarks.md)."""
    from aiortc.jitterbuffer import JitterBuffer

    done = False
    for receiver in pc.getReceivers():
        if receiver.track is not None and receiver.track.kind == "audio" and hasattr(receiver, _JITTER):
            setattr(receiver, _JITTER, JitterBuffer(capacity=16, prefetch=frames))
            done = True
    return done


_JITTER = "_RTCRtpReceiver__jitter_buffer"


async def make_offer(pc: RTCPeerConnection) -> str:
    await pc.setLocalDescription(await pc.createOffer())
    return pc.localDescription.sdp


async def make_answer(pc: RTCPeerConnection, offer: str) -> str:
    await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    return pc.localDescription.sdp


async def take_answer(pc: RTCPeerConnection, answer: str) -> None:
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))


def selected_route(pc: RTCPeerConnection) -> str:
    """How the connected pair travels: ``host`` (a LAN or this machine), ``srflx`` (through
    NATs, found by STUN) or ``relay`` (through TURN); ``unknown`` if aiortc hides it.

    aiortc has no getStats() entry for the selected pair, so this reads aioice's nominated
    pair; it only informs the console, so any surprise there answers ``unknown``."""
    try:
        ice = pc.sctp.transport.transport if pc.sctp is not None else pc.getTransceivers()[0].receiver.transport.transport
        pairs = ice._connection._nominated
        pair = pairs.get(1) or next(iter(pairs.values()))
        local, remote = pair.local_candidate.type, pair.remote_candidate.type
    except Exception:
        return "unknown"
    return "relay" if "relay" in (local, remote) else ("srflx" if "srflx" in (local, remote) else local)
