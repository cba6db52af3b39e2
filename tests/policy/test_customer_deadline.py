"""The customer's runtime sleeps until the policy's next deadline: one that stays in the past
would spin its ticker (a core at 100% for the rest of the session)."""

from __future__ import annotations

from cobrowse.protocol import messages as m

from .customer_harness import Drive


def test_no_deadline_is_left_behind_once_the_hello_came() -> None:
    d = Drive()
    d.take(d.policy.hello(m.Hello("agent", "cobrowse x", "Alice")))
    d.later(10.0)
    d.tick()
    deadline = d.policy.next_deadline()
    assert deadline is None or deadline > d.clock


def test_the_hello_wait_is_a_deadline_until_the_hello_comes() -> None:
    d = Drive()
    deadline = d.policy.next_deadline()
    assert deadline is not None and deadline > d.clock
    d.later(10.0)
    d.tick()
    deadline = d.policy.next_deadline()
    assert deadline is None or deadline > d.clock
