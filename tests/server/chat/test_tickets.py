"""One-time tickets for the browser's session cookie, asked for over the WebSocket (the
store's side: tests/server/store/test_web_tickets.py; across processes:
tests/e2e/test_web_tickets_cluster.py)."""

from __future__ import annotations

from multichat.server.net import ChatServer
from tests.conftest import ClientFactory
from tests.helpers.servers import ALICE, BOB


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
    redeemed = await server.chat.tickets.redeem(reply["session.ticket"])
    assert redeemed is not None and redeemed.token == alice_token
