"""Voice calls and the direct path: the pure parts (call states, audio levels, path choice)."""
