"""Lock-outs after failed logins, on a clock the test moves by hand."""

from __future__ import annotations

from multichat.server.chat.login_guard import LoginGuard
from tests.server.chat.test_limits import FakeClock

ATTACKER, OWNER, NEIGHBOUR = "10.0.0.66", "10.0.0.7", "10.0.0.8"


def guard(clock: FakeClock, **settings: float) -> LoginGuard:
    options: dict[str, float] = {"free_failures": 2, "base_delay": 1.0, "max_delay": 8.0}
    options.update(settings)
    return LoginGuard(clock=clock, **options)  # type: ignore[arg-type]


def test_an_address_guessing_a_name_waits_longer_and_longer() -> None:
    clock = FakeClock()
    login = guard(clock)
    login.failed(ATTACKER, "alice")
    assert login.retry_after(ATTACKER, "alice") == 0  # a typo is free
    login.failed(ATTACKER, "alice")
    delays = []
    for _ in range(5):
        login.failed(ATTACKER, "alice")
        delays.append(login.retry_after(ATTACKER, "alice"))
    assert delays == [1.0, 2.0, 4.0, 8.0, 8.0]
    clock.now += 8.0
    assert login.retry_after(ATTACKER, "alice") == 0


def test_failures_for_one_name_never_refuse_other_names_or_other_addresses() -> None:
    """The seed's lock-out by address refused everyone behind a NAT or a proxy."""
    clock = FakeClock()
    login = guard(clock)
    for _ in range(6):
        login.failed(ATTACKER, "alice")
    assert login.retry_after(ATTACKER, "alice") > 0
    assert login.retry_after(ATTACKER, "bob") == 0  # same address, another name
    assert login.retry_after(OWNER, "alice") == 0  # same name, its owner's address


def test_a_name_under_attack_gives_one_guess_per_address_and_lets_its_owner_in() -> None:
    clock = FakeClock()
    login = guard(clock, free_failures=3)
    for n in range(3):  # an attack from many addresses, one guess each
        login.failed(f"10.1.0.{n}", "alice")
    assert login.under_attack("alice")
    login.failed("10.1.0.99", "alice")
    assert login.retry_after("10.1.0.99", "alice") == 1.0  # no free failures any more
    assert login.retry_after(OWNER, "alice") == 0  # an address that never failed: at once
    login.failed(OWNER, "alice")  # the owner's own typo: a bounded wait
    assert login.retry_after(OWNER, "alice") == 1.0
    clock.now += 1.0
    assert login.retry_after(OWNER, "alice") == 0
    login.succeeded(OWNER, "alice")
    assert login.retry_after(OWNER, "alice") == 0


def test_an_address_spraying_names_gets_one_guess_per_name() -> None:
    clock = FakeClock()
    login = guard(clock, spray_names=3, free_failures=5)
    for name in "ab":
        login.failed(ATTACKER, name)
        assert login.retry_after(ATTACKER, name) == 0  # two names: two people's typos
    login.failed(ATTACKER, "c")
    assert login.spraying(ATTACKER)
    login.failed(ATTACKER, "d")
    assert login.retry_after(ATTACKER, "d") == 1.0  # no free failure on a new name
    login.failed(ATTACKER, "d")
    assert login.retry_after(ATTACKER, "d") == 2.0  # and growing
    # Names it has not failed on, as behind a NAT, log in as ever; so do its neighbours.
    assert login.retry_after(ATTACKER, "zed") == 0
    assert login.retry_after(NEIGHBOUR, "d") == 0


def test_an_office_of_typos_behind_one_address_locks_nobody_out() -> None:
    """Ten people behind one NAT mistyping once each: nobody waits to type it right."""
    clock = FakeClock()
    login = guard(clock, spray_names=10, free_failures=5)
    for person in range(10):
        login.failed(ATTACKER, f"person{person}")
    for person in range(10):
        assert login.retry_after(ATTACKER, f"person{person}") == 0
        login.succeeded(ATTACKER, f"person{person}")
    assert not login.spraying(ATTACKER)


def test_records_are_forgotten_and_bounded() -> None:
    clock = FakeClock()
    login = guard(clock, free_failures=0, max_keys=3)
    for name in "abcd":
        login.failed(OWNER if name == "a" else NEIGHBOUR, name)
    assert login.retry_after(OWNER, "a") == 0  # evicted: at most 3 pairs kept
    assert login.retry_after(NEIGHBOUR, "d") > 0
    clock.now += 100
    assert login.retry_after(NEIGHBOUR, "d") == 0
    assert not login.under_attack("d")
