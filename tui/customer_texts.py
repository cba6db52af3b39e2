"""The customer app's own sentences (docs/i18n.md): each is translated when it is shown, with
the translator installed for the customer (``cobrowse.i18n.text.current``), never at import.
Sentences every front end shares come from ``cobrowse.i18n.notices`` and the keymap; these are
the app's: the banner, the status lines, the side panel, the bars and the step panel. Pure."""

from __future__ import annotations

import re

from rich.cells import cell_len

from cobrowse.i18n.text import FSI, LRI, N_, PDI, Translated, Translator, current, joined
from cobrowse.plain.keymap import KEYMAP, Front, guide_hint, key_of, keys_for, rewrite
from cobrowse.plain.keymap import hint as keymap_hint
from cobrowse.policy.customer_events import Level
from cobrowse.protocol.prompts import PromptKind

#: What the agent may do, in the side panel (a consent level each).
LEVEL_TEXT = {
    Level.VIEW: N_("VIEW ONLY: the agent can see, not type"),
    Level.SUGGEST: N_("SUGGEST: the agent may propose commands"),
    Level.CONTROL: N_("CONTROL: the agent can type in your terminal"),
}
#: The banner below 80 columns (the only status line then): what matters first, short enough
#: for 40 columns with the unverified warning in front.
SHORT_LEVEL = {Level.CONTROL: N_("they can TYPE here"), Level.SUGGEST: N_("they may suggest"),
               Level.VIEW: N_("they see this")}
SHORT_KEYS = {Level.CONTROL: N_("{level} · Ctrl-] r revokes"), Level.SUGGEST: N_("{level} · Ctrl-] r revokes"),
              Level.VIEW: N_("{level} · Ctrl-] e ends")}
#: The banner while the agent sees the terminal, by consent level.
SHARED = {Level.CONTROL: N_("Your terminal is visible to {agent} · they can TYPE in it · Ctrl-] r revokes"),
          Level.SUGGEST: N_("Your terminal is visible to {agent} · they may suggest commands · Ctrl-] r revokes"),
          Level.VIEW: N_("Your terminal is visible to {agent} · view only · Ctrl-] p pauses, Ctrl-] e ends")}
#: The Allow button names what it gives (the bar's text says it in full).
ALLOW_BUTTON = {PromptKind.CONTROL: N_("Allow control (Ctrl-] y)"), PromptKind.SUGGEST: N_("Allow suggestions (Ctrl-] y)"),
                PromptKind.RECORDING: N_("Allow recording (Ctrl-] y)")}
#: The side panel's buttons (id → label), translated when the app mounts.
BUTTONS = {
    "allow": N_("Allow (Ctrl-] y)"), "deny": N_("Deny (Ctrl-] n)"),
    "grant-control": N_("Control  g"), "grant-suggest": N_("Suggest  s"), "revoke": N_("Revoke  r"),
    "pause": N_("Pause  p"), "preview": N_("Preview  v"), "end": N_("End  e"), "call": N_("Call  t"),
}
#: The command each side-panel button runs: its label ends with that command's key.
BUTTON_COMMANDS = {"grant-control": "grant_control", "grant-suggest": "grant_suggest", "revoke": "revoke",
                   "pause": "pause", "preview": "preview", "end": "end", "call": "call"}
PAUSE = BUTTONS["pause"]
RESUME = N_("Resume  p")
CONNECTING = N_("Connecting to the relay…")
#: Notification titles the app dismisses by title once answered.
SUGGESTED = N_("Suggested command")
CONFIRM_CONTROL = N_("Not verified: confirm control")
#: The toast asking which agent Ctrl-] y would remove (a team; the side panel may be closed).
REMOVE_WHICH = N_("Remove an agent?")


NO_ISOLATES = str.maketrans("", "", LRI + FSI + PDI + "\u2067")


def tr_(tr: Translator | None) -> Translator:
    return tr or current()


def level_text(level: str, tr: Translator | None = None) -> str:
    msgid = LEVEL_TEXT.get(Level(level)) if level in tuple(Level) else None
    return tr_(tr)(msgid) if msgid else level


def status_hint(tr: Translator | None = None) -> str:
    """The bottom line during a session: the common Ctrl-] keys."""
    return keymap_hint(Front.APP, tr=tr_(tr))


def ended_status_hint(tr: Translator | None = None) -> str:
    """The bottom line once the session ended: only the keys that still do something (the
    app's own: the side panel and help; chat, allow, control... have no session left)."""
    tr = tr_(tr)
    still = [k for k in keys_for(Front.APP, guide=True) if k.command in ("toggle_panel", "help")]
    return tr("Ctrl-] then: {keys}", keys=joined(" · ", (tr("{key} {what}", key=k.key, what=tr(k.short)) for k in still)))


def guide_status_hint(tr: Translator | None = None) -> str:
    return guide_hint(Front.APP, tr_(tr))


def key_item(key: str, tr: Translator | None = None) -> str:
    """One hint item (``? help``), as the keymap words it."""
    tr = tr_(tr)
    entry = next(k for k in keys_for(Front.APP, guide=True) if k.key == key)
    return tr("{key} {what}", key=entry.key, what=tr(entry.short))


def armed_hint(tr: Translator | None = None) -> str:
    """The bottom line after Ctrl-]: every key, and how to cancel."""
    tr = tr_(tr)
    keys = joined(" · ", (tr("{key} {what}", key=k.key, what=tr(k.short)) for k in keys_for(Front.APP)))
    return tr("prefix: press a key… {keys} · Esc cancel", keys=keys)


def unverified_hint(tr: Translator | None = None) -> str:
    tr = tr_(tr)
    text = tr("⚠ UNVERIFIED AGENT: never give control or passwords · Ctrl-] f report · e end · b details · ? help")
    mine = rewrite(text)  # the configured keys ([keys], plain/keymap.py)
    for command, default in (("end", "e"), ("toggle_panel", "b"), ("help", "?")):
        mine = mine.replace(f" · {default} ", f" · {key_of(command)} ")
    return Translated(mine) if isinstance(text, Translated) else mine


def fit_hint(hint: str, width: int, tr: Translator | None = None) -> str:
    """``hint``'s " · " items that fit in ``width`` columns, in order: the first (what matters)
    and the help (or how to cancel) kept always, the others while there is room. A
    ``Translated`` hint stays one: the items kept hold both ends of the isolate around the
    list of keys (it opens in the first item and closes after "? help")."""
    if cell_len(hint) <= width:
        return hint
    tr = tr_(tr)
    first, *items = hint.split(" · ")
    always = {bare(text) for text in (key_item(key_of("help"), tr), tr("? help"), tr("Esc cancel"))}
    keep = [item for item in items if bare(item) in always or bare(item).endswith(bare(tr("? help")))]
    text = first
    for item in items:
        if item not in keep and cell_len(" · ".join([text, item, *keep])) <= width:
            text = f"{text} · {item}"
    fitted = " · ".join([text, *keep])
    return Translated(fitted) if isinstance(hint, Translated) else fitted


def bare(text: str) -> str:
    """``text`` without our isolates (to compare what a hint item says)."""
    return text.translate(NO_ISOLATES)


def agent_label(row: dict[str, object], tr: Translator | None = None) -> Translated:
    """``Bob (agent 2)`` from a ``viewers`` row (the name is the agent's claim: a value)."""
    tr = tr_(tr)
    name: str = str(row.get("name") or "") or tr("an agent")
    return tr("{name} (agent {number})", name=name, number=str(row.get("id", "")))


def team_names(rows: list[dict[str, object]], tr: Translator | None = None) -> Translated:
    """Who sees the screen, for the banner: ``Alice (agent 1), Bob (agent 2) with CONTROL``."""
    tr = tr_(tr)
    return joined(", ", (tr("{agent} with CONTROL", agent=agent_label(row, tr)) if row.get("control")
                         else agent_label(row, tr) for row in rows))


def team_line(rows: list[dict[str, object]], tr: Translator | None = None) -> Translated:
    """The side panel's "who" with several agents: each one, verified or not, who holds
    control, who waits for the customer's answer (names are the agents' claims: values)."""
    tr = tr_(tr)
    lines = []
    for row in rows:
        agent = agent_label(row, tr)
        if row.get("state") == "asking":
            lines.append(tr("{agent}: waiting for your answer", agent=agent))
            continue
        seen = tr("{agent} ✓ verified", agent=agent) if row.get("verified") else tr("{agent} ⚠ UNVERIFIED", agent=agent)
        lines.append(tr("{agent} with CONTROL", agent=seen) if row.get("control") else seen)
    return joined("\n", lines)


def seeing_hint(count: int, hint: str, tr: Translator | None = None) -> str:
    """The bottom line with several agents watching: how many, first (``fit_hint`` keeps it)."""
    return tr_(tr).plural("{n} agent sees this · {hint}", "{n} agents see this · {hint}", count, hint=hint)


def button_label(button_id: str, tr: Translator | None = None) -> str:
    """A side-panel or consent-bar button's label (``BUTTONS``), with the configured keys."""
    return keyed_label(tr_(tr)(BUTTONS[button_id]), BUTTON_COMMANDS.get(button_id))


def pause_label(paused: bool, tr: Translator | None = None) -> str:
    """The Pause button, or Resume while sharing is paused, with the configured key."""
    return keyed_label(tr_(tr)(RESUME if paused else PAUSE), "pause")


def allow_label(kind: PromptKind, tr: Translator | None = None) -> str:
    """The consent bar's Allow button: it names what it gives, and its key."""
    return rewrite(tr_(tr)(ALLOW_BUTTON[kind]))


#: The consent bar's buttons when their labels with keys do not fit (40 columns, longer
#: languages): the question above them names the keys (Allow (Ctrl-] y) ...; Deny (Ctrl-] n) ...).
CONSENT_BARE = {"allow": N_("Allow"), "deny": N_("Deny")}
#: Textual's Button: ``line-pad: 1`` a side, ``min-width: 16``; customer.tcss: 2 columns between.
_BUTTON_PAD, _BUTTON_MIN, _BUTTON_GAP = 2, 16, 2


def _button_width(label: str) -> int:
    return max(cell_len(label) + _BUTTON_PAD, _BUTTON_MIN)


def consent_labels(kind: PromptKind, room: int, tr: Translator | None = None) -> tuple[str, str]:
    """The consent bar's Allow and Deny labels that fit in ``room`` cells side by side: the
    Allow that names what it gives, else the plain Allow with its key, else the bare words."""
    tr = tr_(tr)
    deny = button_label("deny", tr)
    choices = ((allow_label(kind, tr), deny), (button_label("allow", tr), deny),
               (tr(CONSENT_BARE["allow"]), tr(CONSENT_BARE["deny"])))
    for allow, deny in choices:
        if _button_width(allow) + _BUTTON_GAP + _button_width(deny) <= room:
            return allow, deny
    return choices[-1]


def keyed_label(label: str, command: str | None) -> str:
    """``label`` with the configured keys: a "Ctrl-] y" in it, and the key that ends a
    button's label ("Pause  p": the default letter, isolated in Persian) for ``command``."""
    text = rewrite(label)
    if command is None:
        return text
    default = next(k.key for k in KEYMAP if k.command == command)
    mine = re.sub(rf"(  [{LRI}{FSI}]?){re.escape(default)}({PDI}?)$",
                  lambda m: f"{m[1]}{key_of(command)}{m[2]}", text)
    return Translated(mine) if isinstance(label, Translated) else mine


#: The last row of a toast cut short: the side panel keeps every message whole.
TOAST_MORE = N_("… the rest: Ctrl-] b")


def wrapped_rows(text: str, width: int) -> list[str]:
    """``text`` word-wrapped to ``width`` columns (wide characters count two), as a toast
    wraps it; a word longer than a row is split."""
    rows: list[str] = []
    width = max(1, width)
    for paragraph in text.split("\n"):
        row = ""
        for word in paragraph.split(" "):
            candidate = f"{row} {word}" if row else word
            if cell_len(candidate) <= width:
                row = candidate
                continue
            if row:
                rows.append(row)
            while cell_len(word) > width:
                cut = 1
                while cell_len(word[:cut + 1]) <= width:
                    cut += 1
                rows.append(word[:cut])
                word = word[cut:]
            row = word
        rows.append(row)
    return rows


def fit_toast(message: str, width: int, lines: int, tr: Translator | None = None) -> str:
    """``message`` as at most ``lines`` rows of ``width`` columns: a longer one keeps its
    beginning (who speaks, what it is about) and its end (a question's keys), and says where
    the rest is. A toast taller than the screen grew upwards, off it, losing its first lines."""
    rows = wrapped_rows(message, width)
    if len(rows) <= lines:
        return message
    more = tr_(tr)(TOAST_MORE)
    room = max(0, lines - len(wrapped_rows(more, width)))
    tail = max(1, room // 3) if room >= 2 else 0  # a question's keys take two or three rows
    head, end = "\n".join(rows[:room - tail]), "\n".join(rows[len(rows) - tail:])
    parts = [part for part in (head, more, end) if part]
    if not isinstance(message, Translated):
        return "\n".join(parts)
    return Translated("\n".join(_balanced(part) for part in parts))  # our isolates stay paired


def _balanced(text: str) -> str:
    """``text`` (a piece of a translated sentence) with an isolate its cut left open closed,
    and one it cut the opening of dropped."""
    out, depth = [], 0
    for char in text:
        if char in (LRI, FSI, "\u2067"):
            depth += 1
        elif char == PDI:
            if not depth:
                continue
            depth -= 1
        out.append(char)
    return "".join(out) + PDI * depth
