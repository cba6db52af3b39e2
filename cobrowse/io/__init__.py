"""Asyncio adapters between cobrowse's pure core and the outside world (pty, relay, WebRTC)."""
