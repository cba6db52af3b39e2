"""Pure records of what happened in a session: asciicast rendering, hash-chained receipts,
history statistics. No clock, no files: the I/O adapters live in ``cobrowse.io``."""
