"""The search results model: pages in order, stale answers dropped, the empty state and
refusals in words; checked by qtmodeltester. The request is a recorder standing in for
ChatClient.search (the end-to-end tests use the real one)."""

from __future__ import annotations

from datetime import date

from pytestqt.modeltest import ModelTester

from multichat.desktop.client.search import SearchPage
from multichat.desktop.models.search_results import SearchResultsModel, SearchRole, Status
from multichat.protocol import MsgType
from multichat.protocol.frames import RoomEvent


class Requests:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str | None, int | None]] = []
        self.online = True

    def __call__(self, query: str, room: str | None, before: int | None) -> str | None:
        if not self.online:
            return None
        self.sent.append((query, room, before))
        return str(len(self.sent))


def event(room: int, seq: int, text: str, who: str = "bob") -> RoomEvent:
    return RoomEvent(room=room, message=text, username=who, msg_type=MsgType.MESSAGE, seq=seq,
                     ts="2026-12-06T10:15:00+00:00")


def page(ref: str, query: str, results: list[RoomEvent], more: bool = False,
         next_: int | None = None, room: str = "", before: int | None = None) -> SearchPage:
    return SearchPage(ref=ref, query=query, room=room, before=before, results=tuple(results),
                      more=more, next=next_ if more else None)


def status(model: SearchResultsModel) -> Status:
    """Read anew each time (mypy would take a narrowed attribute for still true)."""
    return model.status


def model_with(requests: Requests) -> SearchResultsModel:
    titles = {"1": "Lobby", "7": "alice, bob"}
    return SearchResultsModel(requests, lambda room: titles.get(room, ""),
                              today=lambda: date(2026, 12, 6))


def test_pages_come_in_order_and_each_row_says_where_who_and_what(
    qtmodeltester: ModelTester,
) -> None:
    requests = Requests()
    model = model_with(requests)
    qtmodeltester.check(model)
    assert model.start("Resume lun")
    assert requests.sent == [("Resume lun", None, None)]
    assert status(model) is Status.SEARCHING and not model.canFetchMore()
    model.add_page(page("1", "Resume lun", [event(7, 310, "Résumé: lunch moved"),
                                            event(1, 42, "the resumes, lunch?", "alice")],
                        more=True, next_=40))
    assert status(model) is Status.DONE and model.rowCount() == 2
    first = model.index(0)
    assert first.data(SearchRole.RoomId) == "7"
    assert first.data(SearchRole.RoomTitle) == "alice, bob"
    assert first.data(SearchRole.Username) == "bob"
    assert first.data(SearchRole.Seq) == 310
    assert first.data(SearchRole.Spans) == [(0, 6), (8, 11)]
    assert first.data(SearchRole.When)  # a time, in local words
    assert model.canFetchMore()
    model.fetchMore()
    assert requests.sent[-1] == ("Resume lun", None, 40)
    assert model.loading and not model.canFetchMore()  # one page at a time
    model.add_page(page("2", "Resume lun", [event(1, 12, "resume after lunch")], before=40))
    assert model.rowCount() == 3 and not model.more and not model.canFetchMore()
    qtmodeltester.check(model)


def test_an_answer_to_an_earlier_search_is_dropped() -> None:
    requests = Requests()
    model = model_with(requests)
    model.start("lu")
    model.start("lunch", "1")
    model.add_page(page("1", "lu", [event(1, 1, "lucky")]))
    assert model.rowCount() == 0 and status(model) is Status.SEARCHING
    model.fail("1", "RATE_LIMITED", "too fast")  # the earlier one's refusal: not ours
    assert status(model) is Status.SEARCHING
    model.add_page(page("2", "lunch", [event(1, 2, "lunch")], room="1"))
    assert [model.index(r).data(SearchRole.Text) for r in range(model.rowCount())] == ["lunch"]


def test_the_same_words_again_ask_nothing_and_no_word_clears() -> None:
    requests = Requests()
    model = model_with(requests)
    model.start("lunch")
    assert not model.start("Lunch!")  # the same words, as the server sees them
    assert len(requests.sent) == 1
    assert model.start("lunch", again=True)
    assert len(requests.sent) == 2
    assert not model.start("  ?! ")
    assert status(model) is Status.IDLE and model.rowCount() == 0


def test_no_result_says_so_naming_the_query_and_the_room() -> None:
    model = model_with(Requests())
    model.start("zebra", "1")
    model.add_page(page("1", "zebra", [], room="1"))
    assert status(model) is Status.DONE
    assert model.status_words.startswith("No messages match “zebra” in Lobby.")


def test_refusals_and_offline_are_told_in_words() -> None:
    requests = Requests()
    model = model_with(requests)
    model.start("lunch")
    model.fail("1", "LIMIT_REACHED", "This search took too long.")
    assert status(model) is Status.FAILED and model.status_words == "This search took too long."
    assert not model.start(" ".join(f"w{i}" for i in range(9)))  # the server's limit: 8
    assert status(model) is Status.FAILED and "8 words" in model.status_words
    assert len(requests.sent) == 1  # never asked
    requests.online = False
    assert not model.start("lunch", again=True)
    assert status(model) is Status.FAILED
    assert "offline" in model.status_words


def test_the_rows_shown_stay_until_the_next_search_answers() -> None:
    model = model_with(Requests())
    model.start("lu")
    model.add_page(page("1", "lu", [event(1, 1, "lucky"), event(1, 2, "lunch")]))
    model.start("lunch")  # typed on: the list does not blink empty meanwhile
    assert model.rowCount() == 2 and status(model) is Status.SEARCHING
    model.add_page(page("2", "lunch", [event(1, 2, "lunch")]))
    assert [model.index(r).data(SearchRole.Text) for r in range(model.rowCount())] == ["lunch"]
    model.start("lunchtime")
    model.fail("3", "LIMIT_REACHED", "Too long.")  # refused: the other search's rows go
    assert model.rowCount() == 0 and status(model) is Status.FAILED


def test_a_lost_connection_ends_the_wait_and_its_late_page_is_dropped() -> None:
    model = model_with(Requests())
    model.start("lunch")
    model.interrupted()
    assert status(model) is Status.FAILED and "connection was lost" in model.status_words
    model.add_page(page("1", "lunch", [event(1, 2, "lunch")]))
    assert model.rowCount() == 0
    model.interrupted()  # nothing on its way: nothing changes
    assert "connection was lost" in model.status_words
