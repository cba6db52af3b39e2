"""Textual apps: the agent console and the customer app (presentation only)."""
