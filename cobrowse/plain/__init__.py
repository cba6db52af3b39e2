"""Plain mode: the customer's side without a full-screen UI (pipes, scripts, minimal terminals)."""
