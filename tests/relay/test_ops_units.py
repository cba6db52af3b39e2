"""The operating modules' pure parts, synchronously: settings, the token store, admin
routing, log formats, audit records, the sessions table."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
from pathlib import Path

import pytest

from cobrowse.errors import ConfigError
from relay import admin
from relay.audit import AuditLog, record
from relay.cli import format_sessions
from relay.config import RelayConfig, load_config
from relay.logs import HumanFormatter, JsonFormatter
from relay.rooms import Event
from relay.tokens import (
    TokenRecord,
    TokenStore,
    add_record,
    admin_ok,
    digest,
    dump_store,
    parse_store,
    remove_record,
    token_names,
)

D1 = hashlib.sha256(b"one").hexdigest()


# ---- settings ----


def test_new_settings_from_file_env_and_flags(tmp_path: Path) -> None:
    path = tmp_path / "relay.toml"
    path.write_text(
        f'[relay]\nadmin_tokens = ["{D1}"]\nmax_sessions_per_token = 3\nidle_timeout = 60\n'
        'log_format = "JSON"\ntrust_proxy = true\naudit_log = "~/audit.jsonl"\n'
    )
    cfg = load_config(path=path, env={"COBROWSE_RELAY_MAX_BYTES_PER_S": "1000000"},
                      flags={"handshake_timeout": "2.5", "trust_proxy": "false"})
    assert cfg.admin_tokens == (D1,) and cfg.max_sessions_per_token == 3 and cfg.idle_timeout == 60.0
    assert cfg.log_format == "json" and cfg.trust_proxy is False and cfg.max_bytes_per_s == 1_000_000
    assert cfg.handshake_timeout == 2.5 and cfg.audit_log == os.path.expanduser("~/audit.jsonl")


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"flags": {"max_bytes_per_s": "-1"}}, "'max_bytes_per_s' from --max-bytes-per-s"),
        ({"flags": {"send_buffer_bytes": "100"}}, "'send_buffer_bytes'"),
        ({"flags": {"slow_consumer_timeout": "0"}}, "'slow_consumer_timeout'"),
        ({"flags": {"log_format": "xml"}}, "expected one of human, json"),
        ({"flags": {"log_level": "loud"}}, "'log_level'"),
        ({"env": {"COBROWSE_RELAY_ADMIN_TOKENS": "hunter2"}}, "COBROWSE_RELAY_ADMIN_TOKENS"),
        ({"env": {"COBROWSE_RELAY_TRUST_PROXY": "maybe"}}, "'trust_proxy'"),
        ({"env": {"COBROWSE_RELAY_IDLE_TIMEOUT": "later"}}, "COBROWSE_RELAY_IDLE_TIMEOUT"),
        ({"flags": {"tls_cert": "/c.pem"}}, "tls_cert and tls_key go together"),
        ({"flags": {"max_sessions_per_token": "1.5"}}, "'max_sessions_per_token'"),
    ],
)
def test_new_settings_are_validated_with_clear_errors(kwargs: dict, needle: str) -> None:
    kwargs.setdefault("env", {})
    with pytest.raises(ConfigError) as info:
        load_config(**kwargs)
    assert needle in str(info.value)


def test_warnings_count_stored_tokens_and_a_trusted_proxy_on_a_public_address() -> None:
    assert RelayConfig(host="0.0.0.0").security_warnings(stored_tokens=2) == []
    (warning,) = RelayConfig(host="0.0.0.0", agent_tokens=(D1,), trust_proxy=True).security_warnings()
    assert "X-Forwarded-For" in warning
    assert RelayConfig(host="127.0.0.1", trust_proxy=True).security_warnings() == []


# ---- token store ----


def test_store_round_trip_and_edits() -> None:
    a = TokenRecord("alice", D1, "2025-01-01T00:00:00Z")
    records = add_record((), a)
    assert parse_store(dump_store(records)) == records
    with pytest.raises(ConfigError, match="already exists"):
        add_record(records, a)
    assert remove_record(records, "alice") == ()
    with pytest.raises(ConfigError, match="no token named"):
        remove_record(records, "bob")
    assert parse_store("") == ()
    assert token_names(records, ["f" * 64]) == {"f" * 64: "config:ffffffff", D1: "alice"}


@pytest.mark.parametrize(
    "text",
    ["{", "[]", '{"version": 2, "tokens": []}', '{"version": 1, "tokens": [{"name": "a"}]}',
     '{"version": 1, "tokens": [{"name": "a b", "sha256": "' + D1 + '"}]}',
     '{"version": 1, "tokens": [{"name": "a", "sha256": "' + D1 + '"}, {"name": "a", "sha256": "' + D1 + '"}]}'],
)
def test_damaged_stores_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_store(text, "the store")


def test_token_store_file(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "sub" / "tokens.json")
    assert store.load() == () and store.stamp() is None
    token, rec = store.create("alice", created="2025-01-01T00:00:00Z")
    assert rec == TokenRecord("alice", digest(token), "2025-01-01T00:00:00Z")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert token not in store.path.read_text() and store.load() == (rec,)
    before = store.stamp()
    store.create("bob")
    assert store.stamp() != before
    store.revoke("alice")
    assert [r.name for r in store.load()] == ["bob"]
    assert not [p for p in store.path.parent.iterdir() if p.name.startswith(".relay-tokens.")]  # no temp left


def test_admin_ok_checks_bearer_tokens() -> None:
    digests = [digest("cba_right")]
    assert admin_ok("Bearer cba_right", digests) and admin_ok("bearer  cba_right ", digests)
    for header in (None, "", "Bearer", "Bearer cba_wrong", "Basic cba_right", "cba_right"):
        assert not admin_ok(header, digests)
    assert not admin_ok("Bearer cba_right", [])


# ---- admin routing ----


class FakeBackend:
    def __init__(self) -> None:
        self.killed: list[str] = []

    def admin_sessions(self) -> list[dict]:
        return [{"id": "abc", "state": "paired"}]

    def admin_kill(self, session_id: str) -> bool:
        self.killed.append(session_id)
        return session_id == "abc"


def test_admin_routes() -> None:
    b, ds, auth = FakeBackend(), [digest("t")], "Bearer t"
    assert admin.handle("GET", "/admin/sessions", None, ds, b) == admin.UNAUTHORIZED
    assert admin.handle("POST", "/admin/sessions/abc/kill", "Bearer x", ds, b) == admin.UNAUTHORIZED
    assert b.killed == []
    reply = admin.handle("GET", "/admin/sessions", auth, ds, b)
    assert reply.status == 200 and json.loads(reply.body) == {"sessions": [{"id": "abc", "state": "paired"}], "count": 1}
    assert admin.handle("POST", "/admin/sessions", auth, ds, b).status == 405
    assert admin.handle("GET", "/admin/sessions/abc/kill", auth, ds, b).status == 405
    assert admin.handle("POST", "/admin/sessions/abc/kill", auth, ds, b).status == 200
    assert admin.handle("POST", "/admin/sessions/zzz/kill", auth, ds, b).status == 404
    assert admin.handle("POST", "/admin/sessions/../kill", auth, ds, b).status == 404
    assert b.killed == ["abc", "zzz"]


# ---- logs, audit, table ----


def make_record(msg: str, ctx: dict | None = None) -> logging.LogRecord:
    rec = logging.LogRecord("relay", logging.INFO, __file__, 1, msg, (), None)
    if ctx is not None:
        rec.ctx = ctx
    return rec


def test_json_and_human_log_lines() -> None:
    line = JsonFormatter().format(make_record("session created", {"event": "created", "session": "s1", "msg": "x"}))
    obj = json.loads(line)
    assert obj["msg"] == "session created" and obj["event"] == "created" and obj["session"] == "s1"
    assert obj["level"] == "info" and obj["ts"].endswith("Z") and "\n" not in line
    human = HumanFormatter().format(make_record("session s1 ended", {
        "event": "ended", "session": "s1", "reason": "idle", "x": None, "duration_s": 12.5, "paired": True,
        "agent_token": "alice"}))
    assert human == "cobrowse relay: session s1 ended (reason idle, lasted 12.5 s, paired, token alice)"


def test_human_lines_are_sentences_and_json_keeps_every_field() -> None:
    """The human line does not repeat what its sentence says (``… event=kept count=0``)."""
    ctx = {"event": "kept", "count": 0}
    message = "keeping 0 session(s) in /var/lib/s.sqlite3 for the next start: clients retry meanwhile"
    assert HumanFormatter().format(make_record(message, ctx)) == "cobrowse relay: " + message
    obj = json.loads(JsonFormatter().format(make_record(message, ctx)))
    assert (obj["msg"], obj["event"], obj["count"]) == (message, "kept", 0)
    refused = HumanFormatter().format(make_record("refused: taken", {
        "event": "refused", "session": None, "code": "taken", "role": "customer", "address": "127.0.0.1"}))
    assert refused == "cobrowse relay: refused: taken (role customer, from 127.0.0.1)"
    assert "=" not in refused


def test_audit_records_and_file(tmp_path: Path) -> None:
    ev = Event("ended", "s1", {"reason": "idle", "agent_token": "alice"})
    assert record(ev, 0.0) == {"ts": "1970-01-01T00:00:00.000Z", "event": "ended", "session": "s1",
                               "reason": "idle", "agent_token": "alice"}
    path = tmp_path / "audit.jsonl"
    log = AuditLog(str(path), wall_clock=lambda: 0.0)
    log.write(ev)
    log.write(Event("left", "s1", {}))  # not an audited kind
    log.write(Event("refused", None, {"code": "taken"}))
    path.rename(tmp_path / "audit.jsonl.1")  # logrotate
    log.reopen()
    log.write(Event("created", "s2", {}))
    log.close()
    assert [json.loads(x)["event"] for x in (tmp_path / "audit.jsonl.1").read_text().splitlines()] == ["ended"]
    assert [json.loads(x)["session"] for x in path.read_text().splitlines()] == ["s2"]
    with pytest.raises(ConfigError, match="cannot open the audit log"):
        AuditLog(str(tmp_path / "missing-dir" / "audit.jsonl"))


def test_sessions_table() -> None:
    assert format_sessions([]) == "no live sessions\n"
    table = format_sessions([{"id": "3fa9", "state": "grace", "age_s": 3725.2, "bytes": 5 * 1024 * 1024,
                              "sides": {"agent": "connected", "customer": "away"}, "agent_token": None}])
    header, row = table.splitlines()
    assert header.split() == ["ID", "STATE", "AGE", "AGENT", "CUSTOMER", "BYTES", "TOKEN"]
    assert row.split() == ["3fa9", "grace", "1h02m", "connected", "away", "5.0", "MiB", "-"]


def test_a_revoked_token_leaves_a_tombstone_the_relay_names_and_older_readers_ignore(tmp_path):
    from relay.tokens import REVOKED_KEPT, TokenStore, parse_revoked, revoked_names

    store = TokenStore(tmp_path / "t.json")
    alice, rec = store.create("alice")
    store.create("bob")
    store.revoke("alice")
    text = (tmp_path / "t.json").read_text()
    assert alice not in text
    assert [r.name for r in parse_store(text)] == ["bob"]  # what an older relay reads
    assert parse_revoked(text) == (rec,)
    assert store.create("alice")[1].sha256 != rec.sha256  # the name is free again
    records, revoked = store.load_all()
    assert revoked_names(revoked, token_names(records)) == {rec.sha256: "alice"}
    assert parse_revoked('{"version": 1, "tokens": [], "revoked": [1, {"name": "x"}]}') == ()
    assert parse_revoked("not json") == ()
    many = dump_store((), [TokenRecord(f"n{i}", f"{i:064x}", "") for i in range(REVOKED_KEPT + 5)])
    assert len(parse_revoked(many)) == REVOKED_KEPT and parse_revoked(many)[-1].name == f"n{REVOKED_KEPT + 4}"
