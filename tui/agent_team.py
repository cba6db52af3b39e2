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
from textual import events
from textual.containers import VerticalScroll
from textual.geometry import Region
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


def agent_line(row: dict[str, Any], waiting: bool, width: int | None = None) -> Text:
    """One agent on two lines, as the customer reads it (``Bob (agent 2)``), then its state:
    ``  ✓ verified · CONTROL`` (fits the side panel's 36 columns); on one line, ``Bob (agent 2)
    · ✓ verified · CONTROL``, when it fits ``width`` (the whole width at 80×24, where the tab
    has 6 rows)."""
    number = row.get("id")
    who = [f"agent {number}"] if isinstance(number, int) else []
    if row.get("you"):
        who.append("you")
    line = Text.assemble((name_text(row.get("name")), "bold"), (f" ({', '.join(who)})" if who else "", ""))
    head = line.cell_len
    line.append("\n  ")
    if "verified" in row:
        line.append("✓ verified · " if row["verified"] else "⚠ unverified · ", style="green" if row["verified"] else "yellow")
    if waiting:
        line.append("WAITING for consent", style="bold yellow")
    elif row.get("control"):
        line.append("CONTROL", style="bold red")
    else:
        line.append("sees the screen", style="dim")
    if width is not None and line.cell_len + 1 <= width:  # "\n  " becomes " · "
        line = line[:head] + Text(" · ") + line[head + 3:]
    return line


class TeamView(StepsView):
    """The team tab and the facts box's ``team`` line (the runtime's team events, kept)."""

    team_viewers: tuple[dict[str, Any], ...]
    team_waiting: tuple[dict[str, Any], ...]
    team_invites: list[OpenInvite]
    team_known: set[int]
    team_pick: str | None
    agent_name: str

    def team_setup(self) -> None:
        self.team_viewers = ()
        self.team_waiting = ()
        self.team_invites = []
        self.team_known = set()
        self.team_pick = None  # the code whose command the tab shows (else the newest)

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
        self.team_pick = event.code  # the one the agent asked for now, and reads out now
        if not self.team_known:
            self.team_known = {self._my_id()}
        self.render_team()
        self.show_side("team-tab")
        self.call_after_refresh(self.reveal_pick)

    def picked_invite(self) -> OpenInvite | None:
        """The open code whose command the tab shows: the one picked, or the newest."""
        if not self.team_invites:
            return None
        return next((i for i in self.team_invites if i.code == self.team_pick), self.team_invites[-1])

    def pick_invite(self, step: int) -> bool:
        """↑/↓ in the tab's list: the previous or next code's command (False at either end,
        where the key scrolls the list as it would anyway)."""
        picked = self.picked_invite()
        if picked is None:
            return False
        index = self.team_invites.index(picked) + step
        if not 0 <= index < len(self.team_invites):
            return False
        self.team_pick = self.team_invites[index].code
        self.render_team()
        self.call_after_refresh(self.reveal_pick)  # once the list has its new rows
        return True

    def copy_invite(self) -> None:
        picked = self.picked_invite()
        if picked is None:
            return
        command = self.colleague_command(picked.code)
        self.app.copy_to_clipboard(command)
        self.app.notify(f"Copied to the clipboard: {command}", markup=False)

    def on_key(self, event: events.Key) -> None:
        """With the Team tab's list focused (Tab reaches it): ↑/↓ pick a code, ``c`` copies what
        the colleague types. Every other key, and ↑/↓ past the ends, scroll the list as usual."""
        if self.app.focused is not self.query_one("#team") or not self.team_invites:
            return
        if event.key == "c":
            self.copy_invite()
        elif event.key not in ("up", "down") or not self.pick_invite(-1 if event.key == "up" else 1):
            return
        event.stop()
        event.prevent_default()

    def reveal_pick(self) -> None:
        """Scroll the tab's list so the picked code and its whole command are in sight (at 80×24
        the tab has 6 rows: two codes and the agents overflow it)."""
        box = self.query_one("#team", VerticalScroll)
        width = self.query_one("#team-list", PlainStatic).content_region.width
        picked = self.picked_invite()
        if picked is None or width <= 0:
            return
        top, rows = self._invite_rows(width)[self.team_invites.index(picked)]
        box.scroll_to_region(Region(0, top, width, rows), animate=False, immediate=True)

    def on_team_void(self, event: InviteVoided) -> None:
        """The customer's client voided one of our codes early (a wrong guess on the relay...)."""
        self.team_invites = [i for i in self.team_invites if i.code != event.code]
        self.render_team()
        self.call_after_refresh(self.reveal_pick)

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

    def _invite_lines(self, now: float | None) -> list[Text]:
        """One line per open code, the picked one (``▸``, once there are several) followed by
        what its colleague types, with its own code in it."""
        picked = self.picked_invite()
        lines = []
        for invite in self.team_invites:
            left = "" if invite.lapses_at is None or now is None else f" · {left_text(invite.lapses_at - now)} left"
            mark = "invite  ▸ " if invite is picked and len(self.team_invites) > 1 else "invite    "
            lines.append(Text.assemble((mark, "bold"), (invite.code, "bold cyan"), (left, "")))
            if invite is picked:
                lines.append(Text.assemble(("colleague types: ", "dim"), self.colleague_command(invite.code)))
        return lines

    def _invite_rows(self, width: int) -> list[tuple[int, int]]:
        """Where each code's line is in the tab at ``width`` columns: its first row, and how many
        rows it takes with the command under it (the picked one)."""
        console = self.app.console
        top = len(self._head_text().wrap(console, width))
        picked = self.picked_invite()
        lines = iter(self._invite_lines(None))
        rows = []
        for invite in self.team_invites:
            height = len(next(lines).wrap(console, width))
            if invite is picked:
                height += len(next(lines).wrap(console, width))
            rows.append((top, height))
            top += height
        return rows

    def on_click(self, event: events.Click) -> None:
        """A click on a code's line picks it (its command shows under it)."""
        listing = self.query_one("#team-list", PlainStatic)
        if event.widget is not listing or not self.team_invites:
            return
        offset = event.get_content_offset(listing)
        if offset is None:
            return
        for invite, (top, _) in zip(self.team_invites, self._invite_rows(listing.content_region.width)):
            if offset.y == top:
                self.team_pick = invite.code
                self.render_team()
                self.call_after_refresh(self.reveal_pick)
                event.stop()
                return

    def _head_text(self) -> Text:
        customer = name_text(self.customer_name) if self.customer_name else self.customer_text()
        return Text.assemble(("customer  ", "bold"), customer)

    def team_text(self, now: float | None = None, width: int | None = None) -> Text:
        """The tab: the customer, the open codes (what the agent reads out now, first), the
        agents (each on one line when it fits ``width``)."""
        out = self._head_text()
        if self.ended:  # the last list would be stale, its ⇧F12 hint a dead end
            out.append("\n")
            out.append("you left the session" if self.left else "the session ended", style="dim")
            return out
        for line in self._invite_lines(now):
            out.append("\n")
            out.append_text(line)
        rows = self.team_viewers or (self._me(),)
        for row in rows:
            out.append("\n")
            out.append_text(agent_line(row, waiting=False, width=width))
        for row in self.team_waiting:
            out.append("\n")
            out.append_text(agent_line(row, waiting=True, width=width))
        if not self.team_invites:  # with codes, the frame names the keys: no row of the 6 at 80×24
            out.append("\n")
            out.append(told("⇧F12 invites a colleague (the customer is asked to allow them)"), style="dim")
        return out

    def render_team(self, now: float | None = None) -> None:
        if now is None:
            now = self.team_clock()
        listing = self.query_one("#team-list", PlainStatic)
        listing.update(self.team_text(now, listing.content_region.width or None))
        many = len(self.team_invites) > 1
        self.query_one("#team").border_subtitle = ("" if not self.team_invites or self.ended
                                                   else "Tab: ↑↓ pick · c copies" if many else "Tab: c copies")
        self._render_facts()

    def on_resize(self) -> None:  # Textual calls SessionView's too
        self.call_after_refresh(self.render_team)  # one line or two per agent

    def side_changed(self) -> None:
        self.call_after_refresh(self.render_team)  # at 80×24 the tab is wider without the facts

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
