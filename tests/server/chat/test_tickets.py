"""One-time tickets for the browser's session cookie."""

from __future__ import annotations

from multichat.server.chat.tickets import TicketBook
from multichat.server.net import ChatServer
from tests.conftest import ClientFactory
from tests.helpers.servers import ALICE, BOB


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_ticket_is_good_once_and_only_until_it_expires() -> None:
    clock = Clock()
    book = TicketBook(clock, ttl=60)
    ticket = book.issue("the-token", 7)
    redeemed = book.redeem(ticket)
    assert redeemed is not None and (redeemed.token, redeemed.user_id) == ("the-token", 7)
    assert book.redeem(ticket) is None  # replayed
    late = book.issue("the-token", 7)
    clock.now += 60
    assert book.redeem(late) is None  # expired
    assert book.redeem("made-up") is None


def test_expired_tickets_are_forgotten_and_the_book_is_bounded() -> None:
    clock = Clock()
    book = TicketBook(clock, ttl=60, capacity=3)
    first = book.issue("a", 1)
    for _ in range(3):
        book.issue("b", 2)
    assert len(book) == 3 and book.redeem(first) is None  # the oldest went first
    clock.now += 61
    book.issue("c", 3)
    assert len(book) == 1


async def test_a_ticket_is_only_for_the_token_of_the_connection_that_asks(
    server: ChatServer, connect: ClientFactory
) -> None:
    alice = await connect(ALICE)
    bob = await connect(BOB)
    alice_token = alice.seen[-1]["login"]["token"]
    # Bob holding Alice's token (stolen, say) gets no ticket for it on his connection.
    refused = await bob.request(command="session.ticket", token=alice_token, ref="t")
    assert refused["error"] == "PERMISSION_DENIED" and refused["ref"] == "t"
    anonymous = await connect()
    before_login = await anonymous.request(command="session.ticket", token=alice_token)
    assert before_login["error"] == "USER_HAS_TO_LOGIN"
    reply = await alice.request(command="session.ticket", token=alice_token, ref="t")
    assert reply["expires_in"] == 60 and reply["ref"] == "t"
    assert server.chat is not None
    redeemed = server.chat.tickets.redeem(reply["session.ticket"])
    assert redeemed is not None and redeemed.token == alice_token
