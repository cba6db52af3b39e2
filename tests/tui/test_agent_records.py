"""The agent console records with consent (shift+F5), shows the customer's feedback at the
end, and shows history and stats (shift+F6): a real relay, an in-process customer runtime."""

from __future__ import annotations

from typing import Callable

from relay.server import RelayServer
from tests.tui.test_agent_app import SIZE, Customer, customers, log_text, paired_session, text_of  # noqa: F401
from tests.waiting import until
from tui.agent_app import AgentApp, ConfirmDialog
from tui.history_screen import HistoryScreen
from tests.tui.terminal_keys import press_key


async def test_record_end_with_feedback_then_history(relay: RelayServer, customers: Callable[[], Customer]) -> None:
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        customer = customers()
        customer.runtime.ask_feedback = True
        pane = await paired_session(pilot, customer)
        await until(lambda: customer.of("hello") and pane.customer_name is not None, "hello", pilot=pilot)
        await press_key(pilot, "⇧F5")
        await until(lambda: customer.of("recording_prompt"), "the customer's recording prompt", pilot=pilot)
        assert "asked the customer" in text_of(pane.query_one("#facts"))
        await customer.runtime.answer_recording(True)
        await until(lambda: "● RECORDING" in text_of(pane.query_one("#facts")), "the recording fact", pilot=pilot)
        await press_key(pilot, "F8")
        await until(lambda: isinstance(app.screen, ConfirmDialog), "the confirmation", pilot=pilot)
        await pilot.press("y")
        await until(lambda: customer.of("feedback_prompt"), "the customer's feedback question", pilot=pilot)
        # while the answer is awaited the tab says the session is ending (it kept "CONTROL GRANTED ...")
        await until(lambda: pane.state.startswith("ENDING: awaiting the customer's feedback"), "the ending state", pilot=pilot)
        await customer.runtime.give_feedback("yes", 5)
        await until(lambda: pane.ended, "the session to end", pilot=pilot)
        await until(lambda: "customer feedback: solved, rated 5/5" in log_text(pane.chat_log), "the feedback line", pilot=pilot)
        await press_key(pilot, "⇧F6")
        await until(lambda: isinstance(app.screen, HistoryScreen), "the history screen", pilot=pilot)
        body = text_of(app.screen.query_one("#history-body"))
        assert "sessions: 1" in body and "resolved: 100% of 1 answered" in body and "5.0/5" in body
        assert "[rec " in body
        await pilot.press("escape")
        await until(lambda: not isinstance(app.screen, HistoryScreen), "the history screen to close", pilot=pilot)
