"""Application messages and the session machines. Pure: no I/O."""
