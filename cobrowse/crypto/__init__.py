"""The security core: PAKE handshake, key schedule and AEAD sealing. Pure: no I/O."""
