"""A session pane's team panel (docs/team.md, "The console"): who is in the session — the
customer, every agent with its name, number, verdict, whether the customer admitted it or is
being asked, who has control — and the open invitation codes with the time they have left.

Built from the runtime's ``viewers``, ``invite`` and ``invite_void`` events as they arrive. Every name is the
other side's claim (a scammer may pick ``[b]Verified[/b]`` or a right-to-left override as a
name): rendered as ``Text`` (never markup), escaped again and cut to ``NAME_CAP``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.widgets import TabbedContent

from cobrowse.policy.agent_events import InviteReady, ViewersChanged
from cobrowse.policy.agent_team import InviteVoided
from cobrowse.protocol.untrusted import visible
from tui.agent_keys import told
from tui.agent_panels import StepsView
from tui.safe import PlainStatic

#: The most characters of a peer's name the panel shows (the door caps names at 64 already).
NAME_CAP = 24
#: Invitation codes the panel remembers (the customer's client keeps at most 2 open).
MAX_INVITES = 4


@dataclass(frozen=True)
class OpenInvite:
    """A code this agent asked for, not yet used (as far as this agent can tell)."""

    code: str
    lapses_at: float | None  # monotonic; None: the customer's client did not say
    agent: int | None = None  # the number its colleague will have; None: not said (an older client)


def name_text(name: object) -> str:
    """A peer's name as the panel shows it: controls and bidi escaped, bounded."""
    shown = visible(str(name or ""), cap=NAME_CAP)
    return shown or "(no name)"


def left_text(seconds: float) -> str:
    whole = max(int(seconds), 0)
    return f"{whole // 60}:{whole % 60:02d}"


def agent_line(row: dict[str, Any], waiting: bool) -> Text:
    """One agent on two lines, as the customer reads it (``Bob (agent 2)``), then its state:
    ``  ✓ verified · CONTROL`` (fits the side panel's 36 columns)."""
    number = row.get("id")
    who = [f"agent {number}"] if isinstance(number, int) else []
    if row.get("you"):
        who.append("you")
    line = Text.assemble((name_text(row.get("name")), "bold"), (f" ({', '.join(who)})" if who else "", ""))
    line.append("\n  ")
    if "verified" in row:
        line.append("✓ verified · " if row["verified"] else "⚠ unverified · ", style="green" if row["verified"] else "yellow")
    if waiting:
        line.append("WAITING for consent", style="bold yellow")
    elif row.get("control"):
        line.append("CONTROL", style="bold red")
    else:
        line.append("sees the screen", style="dim")
    return line


class TeamView(StepsView):
    """The team tab and the facts box's ``team`` line (the runtime's team events, kept)."""

    team_viewers: tuple[dict[str, Any], ...]
    team_waiting: tuple[dict[str, Any], ...]
    team_invites: list[OpenInvite]
    team_known: set[int]
    agent_name: str

    def team_setup(self) -> None:
        self.team_viewers = ()
        self.team_waiting = ()
        self.team_invites = []
        self.team_known = set()

    def on_team_viewers(self, event: ViewersChanged) -> None:
        self.team_viewers = tuple(event.viewers)
        self.team_waiting = tuple(event.waiting or ())
        ids = {int(row["id"]) for row in (*self.team_viewers, *self.team_waiting) if isinstance(row.get("id"), int)}
        self.team_invites = [i for i in self.team_invites if i.agent is None or i.agent not in ids]  # used
        unnamed = [i for i in self.team_invites if i.agent is None]
        arrived = ids - self.team_known - {self._my_id()}
        if self.team_known and unnamed and arrived:  # an older customer's client: the oldest codes went first
            used = unnamed[:len(arrived)]
            self.team_invites = [i for i in self.team_invites if i not in used]
        self.team_known |= ids
        if self.team_waiting:
            self.flag_attention()
        self.render_team()

    def on_team_invite(self, event: InviteReady, now: float) -> None:
        lapses = now + event.expires_s if event.expires_s else None
        self.team_invites = [*self.team_invites, OpenInvite(event.code, lapses, event.agent)][-MAX_INVITES:]
        if not self.team_known:
            self.team_known = {self._my_id()}
        self.render_team()
        self.show_side("team-tab")

    def on_team_void(self, event: InviteVoided) -> None:
        """The customer's client voided one of our codes early (a wrong guess on the relay...)."""
        self.team_invites = [i for i in self.team_invites if i.code != event.code]
        self.render_team()

    def toggle_side(self) -> None:
        """⇧F1: chat, steps, and the team once there is one (else chat and steps, as alone)."""
        side = self.query_one("#side-tabs", TabbedContent)
        in_a_team = len(self.team_viewers) > 1 or bool(self.team_waiting or self.team_invites)
        if in_a_team and side.active == "steps-tab":
            self.show_side("team-tab")
            return
        if side.active == "team-tab":
            self.show_side("steps-tab")  # the panels' own toggle goes on to the chat from there
        super().toggle_side()

    def _my_id(self) -> int:
        return next((int(r["id"]) for r in self.team_viewers if r.get("you") and isinstance(r.get("id"), int)), 1)

    def _me(self) -> dict[str, Any]:
        """This agent before the customer's client listed anyone (alone, or an older client)."""
        me: dict[str, Any] = {"name": self.agent_name, "you": True, "control": self.consent == "control"}
        if self.seen_as is not None:
            me["verified"] = bool(self.seen_as.get("verified"))
        return me

    def team_tick(self, now: float) -> None:
        """Once a second: codes count down, and a lapsed one goes."""
        if not self.team_invites:
            return
        self.team_invites = [i for i in self.team_invites if i.lapses_at is None or i.lapses_at > now]
        self.render_team(now)

    def team_summary(self, now: float | None = None) -> str:
        """The facts box's line: ``3 agents · 1 waiting · invite 4:32`` (empty: no team). Once
        this agent has left or the session ended, the last count would be stale: only the leaving."""
        if self.ended:
            return "you left" if self.left else ""
        parts = []
        if len(self.team_viewers) > 1:
            parts.append(f"{len(self.team_viewers)} agents")
        if self.team_waiting:
            parts.append(f"{len(self.team_waiting)} waiting")
        if self.team_invites:
            parts.append(self._invite_brief(self.team_invites[-1], now))
        return " · ".join(parts)

    def _invite_brief(self, invite: OpenInvite, now: float | None) -> str:
        if invite.lapses_at is None or now is None:
            return "invite open"
        return f"invite {left_text(invite.lapses_at - now)}"

    def team_text(self, now: float | None = None) -> Text:
        out = Text()
        customer = name_text(self.customer_name) if self.customer_name else self.customer_text()
        out.append_text(Text.assemble(("customer  ", "bold"), customer))
        if self.ended:  # the last list would be stale, its ⇧F12 hint a dead end
            out.append("\n")
            out.append("you left the session" if self.left else "the session ended", style="dim")
            return out
        rows = self.team_viewers or (self._me(),)
        for row in rows:
            out.append("\n")
            out.append_text(agent_line(row, waiting=False))
        for row in self.team_waiting:
            out.append("\n")
            out.append_text(agent_line(row, waiting=True))
        for invite in self.team_invites:
            left = "" if invite.lapses_at is None or now is None else f" · {left_text(invite.lapses_at - now)} left"
            out.append("\n")
            out.append_text(Text.assemble(("invite    ", "bold"), (invite.code, "bold cyan"), (left, "")))
        out.append("\n")
        # two lines at most at 80×24 (the tab has 6 rows there): "read the code to your
        # colleague:" took a third with a relay of our own, and pushed the list out of sight
        hint = ("⇧F12 invites a colleague (the customer is asked to allow them)" if not self.team_invites
                else f"colleague types: {self.colleague_command('CODE')}")
        out.append(told(hint), style="dim")
        return out

    def render_team(self, now: float | None = None) -> None:
        if now is None:
            now = self.team_clock()
        self.query_one("#team-list", PlainStatic).update(self.team_text(now))
        self._render_facts()

    def team_clock(self) -> float:
        return time.monotonic()

    def facts_text(self) -> str:
        """The facts box with the team's line under ``you`` (at 80×24 the box shows 8 lines)."""
        text = super().facts_text()
        summary = self.team_summary(self.team_clock())
        if not summary:
            return text
        lines = text.split("\n")
        lines.insert(3, f"team      {summary}")
        return "\n".join(lines)
