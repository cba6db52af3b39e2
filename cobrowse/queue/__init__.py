"""The help queue on the clients' side (docs/helpdesk.md, "The queue"): ``events`` (pure,
typed events), ``link`` (the relay connections: a queued customer's, an agent's watcher,
a picked session's claim with its ticket), ``sessions`` (a queued or picked session set up
on a runtime, with the queue handshake)."""
