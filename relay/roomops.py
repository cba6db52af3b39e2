"""The rooms across processes: several nodes on Redis (relay/cluster.py does the Redis side)
and a restart from the session store (relay/store.py). Pure: what to export, how to take a
session back with both sides away and a fresh grace period; and what the help queue
(relay/queue_host.py) asks of the rooms."""

from __future__ import annotations

from relay.outcome import Event, Key, Output
from relay.roomstate import RoomsBase, RoomSession, SessionRecord, Side, secret_digest


class RoomsAcrossProcesses(RoomsBase):
    """Sessions that move between nodes or survive a restart."""

    def holds(self, nameplate: str) -> bool:
        """Whether this node has that live session."""
        return nameplate in self._sessions

    def live_nameplates(self) -> list[str]:
        return list(self._sessions)

    def queueable(self, conn: Key) -> str | None:
        """The nameplate of ``conn``'s session if it may wait in the help queue: ``conn``
        created it as the customer and nobody has confirmed a claim on it yet (relay/queue.py)."""
        c = self._conns.get(conn)
        session = c.session if c is not None else None
        if session is None or c is None or c.side is not session.creator or session.creator.role != "customer":
            return None
        return None if session.confirmed or session.ended else session.nameplate

    def admits_agent(self, token: str | None) -> bool:
        """Whether an agent with ``token`` is admitted (always, when the relay has no tokens)."""
        return self._token(token)[0]

    def address_of(self, conn: Key) -> str:
        c = self._conns.get(conn)
        return c.address if c is not None else ""

    def nameplate_candidates(self, now: float, k: int = 8, floor: int = 99) -> list[str]:
        """Up to ``k`` distinct nameplates free here, from 1..at least ``floor``, to reserve
        one of them cluster-wide."""
        seen: dict[str, None] = {}
        for _ in range(2 * k):
            candidate = self._allocate(now, floor)
            if candidate is None:
                break
            seen.setdefault(candidate, None)
            if len(seen) == k:
                break
        return list(seen)

    def export(self, nameplate: str, now: float | None = None, wall: float | None = None) -> dict[str, str] | None:
        """What another node needs to adopt the session (its sides' resume secrets included);
        with ``now`` and ``wall`` (the time since the epoch) also when it was created, so an
        adopting node keeps its age (rooms' clock is monotonic: only wall time travels)."""
        s = self._sessions.get(nameplate)
        if s is None:
            return None
        joiner = s.joiner
        fields = {
            "id": s.id, "creator_role": s.creator.role, "creator_token": s.creator.token,
            "joiner_role": joiner.role if joiner is not None else "",
            "joiner_token": joiner.token if joiner is not None else "",
            "agent_token": s.agent_token or "",
        }
        if now is not None and wall is not None:
            fields["created"] = f"{wall - (now - s.created_at):.3f}"
        return fields

    def adopt(
        self, nameplate: str, session_id: str, creator: tuple[str, str], joiner: tuple[str, str] | None,
        agent_token: str | None, now: float, *, age: float = 0.0,
    ) -> Output:
        """Take over a session whose node was lost: both sides away, each with a fresh grace
        period to ``resume`` here (or through another node). A no-op if it is here already.
        ``creator``/``joiner`` are (role, resume secret); ``age``: seconds since it was created."""
        record = SessionRecord(
            nameplate, session_id, creator[0], secret_digest(creator[1]),
            joiner[0] if joiner is not None else "", secret_digest(joiner[1]) if joiner is not None else b"",
            agent_token or "",
        )
        return self._revive(record, now, "adopted", age=age)

    def restore(self, records: list[SessionRecord], now: float, ages: dict[str, float] | None = None) -> Output:
        """This relay restarted: take its sessions back from its store, every side away with
        a fresh grace period to ``resume``; a session nobody joined yet keeps what is left
        of ``unclaimed_ttl`` (``ages``: seconds since each was created, by id)."""
        out = Output()
        for record in records:
            age = (ages or {}).get(record.id, 0.0)
            if not record.joiner_role and age >= self.config.unclaimed_ttl:
                continue
            one = self._revive(record, now, "restored", ttl_left=self.config.unclaimed_ttl - age, age=age)
            out.events.extend(one.events)
        return out

    def remember_ended(self, ended: dict[str, float], now: float) -> None:
        """This relay restarted: nameplates that ended ``ago`` seconds before (nameplate ->
        ago) still answer ``expired`` and are not handed out again before ``reuse_cooldown``,
        as if it had never stopped (a late claim must not land in a stranger's new session)."""
        for nameplate, ago in sorted(ended.items(), key=lambda item: -item[1]):  # oldest first
            if nameplate in self._sessions:
                continue
            when = now - max(0.0, ago)
            if ago < self.config.dead_memory:
                self._dead[nameplate] = when
            if ago < self.config.reuse_cooldown:
                self._cooling[nameplate] = when

    def record(self, session_id: str) -> SessionRecord | None:
        """The session as relay/store.py keeps it (None once it ended)."""
        s = self._by_id.get(session_id)
        if s is None or s.ended:
            return None
        joiner = s.joiner if s.confirmed else None
        return SessionRecord(
            s.nameplate, s.id, s.creator.role, s.creator.digest,
            joiner.role if joiner is not None else "", joiner.digest if joiner is not None else b"",
            s.agent_token or "",
        )

    def _revive(self, record: SessionRecord, now: float, kind: str, ttl_left: float | None = None,
                age: float = 0.0) -> Output:
        out = Output()
        nameplate, session_id, agent_token = record.nameplate, record.id, record.agent_token
        if nameplate in self._sessions or session_id in self._by_id:
            return out
        grace_until = now + self.config.grace
        first = Side(record.creator_role, "", None, grace_until, record.creator_digest)
        ttl = self.config.unclaimed_ttl if ttl_left is None else max(0.0, ttl_left)
        session = RoomSession(nameplate, first, now + ttl, session_id, now - age)  # its age survives a restart
        self._cooling.pop(nameplate, None)
        self._dead.pop(nameplate, None)
        self._sessions[nameplate] = session
        self._by_id[session_id] = session
        if agent_token:
            session.agent_token = agent_token
            self._per_token[agent_token] = self._per_token.get(agent_token, 0) + 1
        self._timer(grace_until, session, first)
        if record.joiner_role:
            second = session.joiner = Side(record.joiner_role, "", None, grace_until, record.joiner_digest)
            session.confirmed = True  # only confirmed pairings are recorded: released claims never travel
            session.active_at = now
            self._timer(grace_until, session, second)
        else:
            self._timer(session.expires_at, session, None)
        out.events.append(Event(kind, session_id, {
            "nameplate": nameplate, "paired": bool(record.joiner_role), "agent_token": agent_token or None,
        }))
        return out

