"""The bot page's chat panel shows each turn once: its local echo gives way to the synced
transcript as soon as the transcript holds the message, then the reply."""

from __future__ import annotations

from clawnet.bots.views import TranscriptLine
from clawnet.ui.pages.bot_detail.chat import synced_turn
from clawnet.ui.pages.bot_detail.state import bot_ref


def line(seq: int, role: str, text: str) -> TranscriptLine:
    return TranscriptLine(seq=seq, role=role, text=text, at="2026-01-01 00:00:00", tokens="")


EARLIER = [line(0, "user", "hi"), line(1, "assistant", "hi")]


def test_a_turn_not_yet_synced_stays_local():
    assert synced_turn(EARLIER, 1, "", finished=False) == (False, -1)


def test_the_synced_message_replaces_the_local_one_while_the_reply_streams():
    lines = [*EARLIER, line(2, "user", "REPLY WITH: hello there")]
    assert synced_turn(lines, 1, "hello", finished=False) == (True, -1)


def test_a_synced_reply_at_least_as_long_as_the_streamed_one_takes_over_before_the_end():
    lines = [*EARLIER, line(2, "user", "q"), line(3, "assistant", "hello there")]
    assert synced_turn(lines, 1, "hello", finished=False) == (True, 3)


def test_an_intermediate_reply_does_not_hide_the_streaming_one():
    lines = [*EARLIER, line(2, "user", "q"), line(3, "assistant", "[tool: exec]")]
    assert synced_turn(lines, 1, "The answer", finished=False) == (True, -1)


def test_when_the_turn_ended_its_last_reply_is_the_transcripts():
    lines = [
        *EARLIER,
        line(2, "user", "q"),
        line(3, "assistant", "[tool: exec]"),
        line(4, "assistant", "done"),
    ]
    assert synced_turn(lines, 1, "done", finished=True) == (True, 4)


def test_earlier_turns_never_count_as_this_one():
    assert synced_turn(EARLIER, 1, "hi", finished=True) == (False, -1)
    assert synced_turn(EARLIER, -1, "hi", finished=True) == (True, 1)  # a new session: all lines are new


def test_the_page_accepts_a_number_or_an_agent_id():
    assert bot_ref("/bots/12") == "12"
    assert bot_ref("/bots/helper-bot") == "helper-bot"
    assert bot_ref("/bots/helper-bot/") == "helper-bot"
    assert bot_ref("/bots") == ""
    assert bot_ref("/other/12") == ""
