"""cobrowse: terminal co-browsing and remote assistance, end-to-end encrypted."""

__version__ = "0.1.0"
PROTOCOL_VERSION = 1
