"""The customer's side of a session: share the program's screen, enforce consent, chat.

The program itself (a pty) and the customer's keyboard live outside: the glue calls
``program_output``, ``program_exited``, ``local_input`` and ``resize``, and gives a
``write_program`` callable. Consent is decided here, on the customer's machine: the agent's
``keys`` reach the program only while the customer has granted control.
"""

from __future__ import annotations

from typing import Any, Callable

from cobrowse.io.runtime import SessionRuntime
from cobrowse.plain.prefix import HELP, Command, Echo, PrefixParser, ToProgram
from cobrowse.protocol import messages as m
from cobrowse.protocol.consent import ConsentMachine
from cobrowse.screen.sync import ScreenSender

ASKS = {
    "suggest": "to suggest commands (you decide on each one)",
    "control": "to CONTROL your terminal (type into it)",
}


class CustomerRuntime(SessionRuntime):
    role = "customer"

    def __init__(self, *args: Any, cols: int = 80, rows: int = 24, consent_timeout: float = 30.0,
                 write_program: Callable[[bytes], None] = lambda data: None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.consent = ConsentMachine(consent_timeout)
        self.screen = ScreenSender(cols, rows)
        self.sharing = True
        self.write_program = write_program
        self.prefix = PrefixParser()
        self.frames_sent = 0
        self.screen_bytes_sent = 0

    # from the glue

    def program_output(self, data: bytes) -> None:
        self.screen.feed(data)
        self.wake()

    async def program_exited(self, status: int) -> None:
        await self.end("command_exited", f"the customer's shared program exited (status {status})")

    def resize(self, cols: int, rows: int) -> None:
        self.screen.resize(cols, rows)
        self.wake()

    async def local_input(self, data: bytes) -> None:
        for action in self.prefix.feed(data):
            if isinstance(action, ToProgram):
                self.write_program(action.data)
            elif isinstance(action, Echo):
                self.emit({"event": "notice", "message": action.text})
            elif isinstance(action, Command):
                await self.run_command(action.name, action.text)

    async def run_command(self, name: str, text: str = "") -> None:
        if name == "help":
            self.emit({"event": "notice", "message": HELP})
        elif name == "end":
            await self.end("customer_ended")
        elif name == "chat":
            if self.paired:
                await self.send(m.Chat(text))
                self.emit({"event": "notice", "message": f"you: {text}"})
            else:
                self.emit({"event": "notice", "message": "not connected to an agent yet: chat not sent"})
        elif name in ("allow", "deny"):
            prompt = self.consent.prompt
            if prompt is None:
                self.emit({"event": "notice", "message": "nothing to answer"})
                return
            changed = self.consent.answer(name == "allow", self.now)
            await self._consent_changed(changed or True)
        elif name == "grant_control":
            await self._consent_changed(self.consent.grant("control"))
        elif name == "grant_suggest":
            await self._consent_changed(self.consent.grant("suggest"))
        elif name == "revoke":
            self.consent.revoke()
            await self._consent_changed(True)
        elif name == "pause":
            self.sharing = not self.sharing
            if self.sharing:
                self.screen.resync()
            self.emit({"event": "sharing", "active": self.sharing})
            if self.paired:
                await self.send(m.Sharing(self.sharing))
            self.wake()

    async def _consent_changed(self, changed: bool) -> None:
        self.emit({"event": "consent", "level": self.consent.level})
        if self.paired:
            await self.send(m.Consent(self.consent.level))

    # session hooks

    async def on_paired(self) -> None:
        self.screen.resync()
        await self.send(m.Consent(self.consent.level))
        if not self.sharing:
            await self.send(m.Sharing(False))
        self.wake()

    async def on_peer(self, present: bool) -> None:
        if present:
            self.screen.resync()
            self.wake()

    async def on_message(self, message: m.AppMessage) -> None:
        if isinstance(message, m.Chat):
            self.emit({"event": "chat", "from": "agent", "text": message.text})
        elif isinstance(message, m.RequestControl):
            prompt = self.consent.request(message.level, self.now)
            if prompt is None:
                await self.send(m.Consent(self.consent.level))
                return
            self.emit({"event": "consent_prompt", "level": prompt.level, "timeout_s": self.consent.prompt_timeout,
                       "message": f"the agent asks {ASKS[prompt.level]}: Ctrl-] y to allow, Ctrl-] n to deny "
                                  f"(denied automatically in {self.consent.prompt_timeout:.0f} s)"})
        elif isinstance(message, m.Keys):
            if self.consent.allows_keys():
                self.write_program(message.data.encode("utf-8", "surrogateescape"))
            else:
                self.emit({"event": "notice", "message": "ignored keys from the agent: you have not granted control"})
                await self.send(m.Consent(self.consent.level))
        elif isinstance(message, m.Resync):
            self.screen.resync()
            self.wake()

    async def on_tick(self) -> float | None:
        now = self.now
        if self.consent.expire(now):
            self.emit({"event": "notice", "message": "no answer: the agent's request was denied"})
            await self._consent_changed(True)
        session = self.session
        if not self.paired or session is None or not session.peer_present or not self.sharing:
            return None
        frame = self.screen.poll(now)
        if frame is not None:
            payload = frame.to_dict()
            await self.send(m.Screen(payload))
            self.frames_sent += 1
        deadline = self.screen.next_deadline(now)
        prompt = self.consent.prompt
        if prompt is not None:
            deadline = prompt.deadline if deadline is None else min(deadline, prompt.deadline)
        return deadline
