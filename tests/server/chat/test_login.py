"""Logging in and out: passwords, tokens, throttling."""

from __future__ import annotations

import logging

import argon2
import pytest

from multichat.protocol import ErrorCode
from multichat.server.chat.passwords import Passwords
from multichat.server.chat.tokens import token_hash
from tests.conftest import ALICE, BOB
from tests.server.chat.conftest import ChatHarness


async def test_password_login_answers_with_the_account_and_a_token(harness: ChatHarness) -> None:
    session, peer = await harness.session()
    assert await harness.run(session, command="login", username="alice",
                             password="alice-password", ref="r1") is None
    (reply,) = peer.take()
    login = reply["login"]
    assert reply["ref"] == "r1"
    assert (login["username"], login["is_staff"], login["is_superuser"]) == ("alice", False, False)
    assert isinstance(login["token"], str) and len(login["token"]) >= 43  # 256 bits


async def test_unknown_user_and_wrong_password_fail_alike(harness: ChatHarness) -> None:
    session, _ = await harness.session()
    wrong = await harness.run(session, command="login", username="alice", password="nope")
    unknown = await harness.run(session, command="login", username="mallory", password="nope")
    assert wrong is not None and unknown is not None
    assert (wrong.code, wrong.detail) == (unknown.code, unknown.detail)
    assert wrong.code is ErrorCode.LOGIN_FAILED
    assert session.user is None


async def test_a_failed_login_is_one_line_of_the_log_without_the_password(
    harness: ChatHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """An operator sees guessing as it happens (before, a failure logged nothing at any
    level), and when it locks a name out for an address."""
    caplog.set_level(logging.INFO, logger="multichat.server.chat.accounts")
    session, _ = await harness.session(address="192.0.2.7")
    for attempt in range(harness.chat.login_guard.free_failures + 1):
        await harness.run(session, command="login", username="alice\nforged line",
                          password=f"secret-{attempt}")
    lines = [r.getMessage() for r in caplog.records if "failed login" in r.getMessage()]
    assert len(lines) == harness.chat.login_guard.free_failures + 1
    assert lines[0] == "failed login for 'alice\\nforged line' from 192.0.2.7"
    assert lines[-1].endswith("; that name waits 1 s there")
    assert not any("secret-" in record.getMessage() for record in caplog.records)


class RecordingPasswords(Passwords):
    """Real Argon2 (the cheapest parameters), noting which hash each login is checked against."""

    def __init__(self) -> None:
        super().__init__(argon2.profiles.CHEAPEST)
        self.checked: list[str | None] = []

    def verify(self, password_hash: str | None, password: str) -> bool:
        self.checked.append(password_hash)
        return super().verify(password_hash, password)


async def test_unknown_user_and_wrong_password_cost_the_same_work(harness: ChatHarness) -> None:
    """No timing gap: each failure is one Argon2 check with the same parameters.

    The wall-clock comparison is a benchmark (python -m bench --only login_timing),
    not a test; this shows why there is nothing to measure.
    """
    passwords = harness.chat.passwords = RecordingPasswords()
    session, _ = await harness.session()
    await harness.run(session, command="login", username="alice", password="nope")
    await harness.run(session, command="login", username="mallory", password="nope")
    alice_hash, unknown = passwords.checked
    assert alice_hash is not None and unknown is None  # one check each, nothing more
    same = argon2.extract_parameters
    assert same(passwords.dummy_hash) == same(alice_hash) == same(passwords.hash("x"))
    assert not passwords.verify(None, "not a password anyone has")  # the dummy opens nothing


async def test_commands_before_login_are_refused_but_ping_is_answered(
    harness: ChatHarness,
) -> None:
    session, peer = await harness.session()
    for frame in ({"command": "rooms"}, {"command": "join", "room": 1},
                  {"command": "send", "room": 1, "message": "x"}, {"command": "logout"},
                  {"command": "room.create", "title": "x"}):
        error = await harness.run(session, **frame)
        assert error is not None and error.code is ErrorCode.USER_HAS_TO_LOGIN, frame
    assert await harness.run(session, command="ping", ref="p") is None
    assert peer.take() == [{"pong": True, "ref": "p"}]


async def test_a_token_logs_in_again_until_logout_revokes_it(harness: ChatHarness) -> None:
    first, peer = await harness.session()
    await harness.run(first, command="login", username="alice", password="alice-password")
    token = peer.take()[0]["login"]["token"]
    second, peer2 = await harness.session()
    assert await harness.run(second, command="login", token=token) is None
    assert peer2.take()[0]["login"]["username"] == "alice"
    assert await harness.run(first, command="logout", ref="bye") is None
    assert peer.take() == [{"logout": True, "ref": "bye"}]
    third, _ = await harness.session()
    error = await harness.run(third, command="login", token=token)
    assert error is not None and error.code is ErrorCode.LOGIN_FAILED


async def test_logging_in_twice_on_one_connection_is_refused(harness: ChatHarness) -> None:
    session, _ = await harness.session(ALICE)
    error = await harness.run(session, command="login", username="bob", password="bob-password")
    assert error is not None and error.code is ErrorCode.BAD_REQUEST
    assert session.user is not None and session.user.username == "alice"


async def test_a_name_under_attack_locks_each_failing_address_but_lets_its_owner_in(
    harness: ChatHarness,
) -> None:
    for attempt in range(5):  # guesses from five addresses: the name is under attack
        session, _ = await harness.session(address=f"198.51.100.{attempt}")
        error = await harness.run(session, command="login", username="alice", password="bad")
        assert error is not None and error.code is ErrorCode.LOGIN_FAILED
    session, _ = await harness.session(address="198.51.100.99")
    error = await harness.run(session, command="login", username="alice", password="bad")
    assert error is not None and error.code is ErrorCode.LOGIN_FAILED  # one guess, then locked
    error = await harness.run(session, command="login", username="alice",
                              password="alice-password")
    assert error is not None and error.code is ErrorCode.RATE_LIMITED
    assert error.detail and "try again in 1 s" in error.detail
    # Another user from the same address is not affected, nor alice from her own.
    assert await harness.run(session, command="login", username=BOB[0], password=BOB[1]) is None
    owner, _ = await harness.session(address="192.0.2.50")
    assert await harness.run(owner, command="login", username="alice",
                             password="alice-password") is None


async def test_failures_for_one_name_refuse_no_other_name_and_no_token(
    harness: ChatHarness,
) -> None:
    """Six failures for alice from one address (a proxy, a NAT) refused everyone there."""
    first, first_peer = await harness.session(address="203.0.113.7")
    assert await harness.run(first, command="login", username="bob",
                             password="bob-password") is None
    bobs_token = first_peer.take()[0]["login"]["token"]
    session, _ = await harness.session(address="203.0.113.7")
    for _ in range(6):
        error = await harness.run(session, command="login", username="alice", password="x")
        assert error is not None and error.code in (ErrorCode.LOGIN_FAILED,
                                                    ErrorCode.RATE_LIMITED)
    error = await harness.run(session, command="login", username="alice", password="x")
    assert error is not None and error.code is ErrorCode.RATE_LIMITED  # alice is locked here
    sam, _ = await harness.session(address="203.0.113.7")
    assert await harness.run(sam, command="login", username="sam",
                             password="staff-password") is None
    by_token, peer = await harness.session(address="203.0.113.7")
    assert await harness.run(by_token, command="login", token=bobs_token) is None
    assert peer.take()[0]["login"]["username"] == "bob"


async def test_an_address_spraying_names_gets_one_guess_per_name_and_others_log_in(
    harness: ChatHarness,
) -> None:
    first, first_peer = await harness.session(address="192.0.2.9")
    assert await harness.run(first, command="login", username="alice",
                             password="alice-password") is None
    alice_token = first_peer.take()[0]["login"]["token"]
    sprayer, _ = await harness.session(address="203.0.113.7")
    for n in range(10):
        error = await harness.run(sprayer, command="login", username=f"u{n}", password="x")
        assert error is not None and error.code is ErrorCode.LOGIN_FAILED
    for _ in range(2):  # a further name: one guess, then locked
        error = await harness.run(sprayer, command="login", username="bob", password="x")
    assert error is not None and error.code is ErrorCode.RATE_LIMITED
    # alice, behind the same address, types hers right: in; so does a valid token
    neighbour, _ = await harness.session(address="203.0.113.7")
    assert await harness.run(neighbour, command="login", username="alice",
                             password="alice-password") is None
    assert await harness.run(sprayer, command="login", token=alice_token) is None


async def test_upgrading_a_password_hash_at_login_signs_no_one_out(harness: ChatHarness) -> None:
    """A hash made with other Argon2 parameters is rehashed at login, not treated as a reset."""
    old_style = Passwords(argon2.Parameters(
        type=argon2.Type.ID, version=19, salt_len=16, hash_len=16, time_cost=1,
        memory_cost=16, parallelism=1,
    ))
    dora = harness.store.create_user("dora", old_style.hash("dora-pw"))
    harness.store.add_token(dora.id, token_hash("saved-login"), expires_ms=2**62)
    kept, kept_peer = await harness.session()
    assert await harness.run(kept, command="login", token="saved-login") is None
    before = harness.store.credentials("dora")
    await harness.session(("dora", "dora-pw"))  # a password login: the rehash happens
    after = harness.store.credentials("dora")
    assert before is not None and after is not None
    assert after.password_hash != before.password_hash
    assert harness.chat.passwords.verify(after.password_hash, "dora-pw")
    await harness.chat.reconcile()
    assert kept_peer.closed is None and kept.user is not None  # still signed in
    assert harness.store.token_owner(token_hash("saved-login"), at_ms=0) is not None
