"""The multi-example benchmark's sessions and their precision, by hand."""

from __future__ import annotations

from bench.examples import Session, draw_sessions, session_precision
from bench.queries import Query
from recommend.pipeline import Ranked

COLOURS = {1: "Black", 2: "Black", 3: "Black", 4: "Red", 5: "Black", 6: "Blue"}
TYPES = {1: "Watches", 2: "Watches", 3: "Watches", 4: "Watches", 5: "Shirts", 6: "Shirts"}


def test_sessions_share_type_and_colour_and_take_a_negative_of_another_type() -> None:
    queries = [Query(i, TYPES[i]) for i in TYPES]
    sessions = draw_sessions(queries, lambda i: {"baseColour": COLOURS[i]}, 3, seed=1)
    assert sessions
    for session in sessions:
        assert sorted(session.positive) == [1, 2, 3]
        assert (session.article_type, session.colour) == ("Watches", "Black")
        assert TYPES[session.negative] == "Shirts"


def _ranked(i: int) -> Ranked:
    payload = {"articleType": TYPES[i], "baseColour": COLOURS[i]}
    return Ranked(i, 0.5, 0.5, 1.0, True, 1, 1, payload)


def test_precision_needs_type_and_colour() -> None:
    session = Session((1, 2, 3), 5, "Watches", "Black")
    assert session_precision(session, [_ranked(i) for i in (1, 4, 5, 2)], 5) == 2 / 5
