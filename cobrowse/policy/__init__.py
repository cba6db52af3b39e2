"""Role policies: what the customer's and the agent's sides decide, without I/O.

Each policy takes typed inputs and ``now`` and returns messages to send and typed events,
the way ``relay/rooms.py`` does for the relay; the runtimes in ``cobrowse.io`` are glue.
"""
