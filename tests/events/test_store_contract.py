"""One contract for both event stores: lists, events, idempotency, experiments, counts."""

from __future__ import annotations

import time

import pytest

from events.log import ListLog
from events.model import StoredEvent
from events.store import EventStore, ExperimentConflict
from tests.events.factory import served


def stored(ranking_id: str, product_id: str, kind: str = "click", event_id: str | None = None):
    now = time.time()
    return StoredEvent(
        type=kind,  # type: ignore[arg-type]
        ranking_id=ranking_id,
        product_id=product_id,
        user_id="shopper-1",
        event_id=event_id,
        at=now,
        received_at=now,
    )


def test_lists_are_kept_with_their_scores_as_served(event_store: EventStore) -> None:
    entry = served(["10", "11", "12"])
    event_store.log_lists([entry.record()])
    event_store.log_lists([entry.record()])  # a retried batch keeps the list once
    [record] = event_store.served_lists()
    assert record == entry.record()
    assert [s.position for s in record.shown] == [1, 2, 3]
    assert record.shown[1].recall_rank == 2 and record.shown[1].category_match is False
    assert event_store.shown_products([entry.ranking_id, "nope"]) == {
        entry.ranking_id: {"10", "11", "12"}
    }
    assert event_store.list_users([entry.ranking_id]) == {entry.ranking_id: "shopper-1"}


def test_an_event_id_counts_once(event_store: EventStore) -> None:
    entry = served(["10", "11"])
    event_store.log_lists([entry.record()])
    first = event_store.add_events(
        [stored(entry.ranking_id, "10", event_id="e1"), stored(entry.ranking_id, "11")]
    )
    again = event_store.add_events(
        [
            stored(entry.ranking_id, "10", event_id="e1"),
            stored(entry.ranking_id, "11", event_id="e2"),
            stored(entry.ranking_id, "11", event_id="e2"),
        ]
    )
    assert len(first) == 2 and len(again) == 1
    assert event_store.count_events() == 3
    assert [e.product_id for e in event_store.events(user_id="shopper-1")] == ["10", "11", "11"]


def test_one_experiment_runs_at_a_time(event_store: EventStore) -> None:
    arms = [{"name": "a", "weight": 1.0}, {"name": "b", "weight": 1.0}]
    run = event_store.start_experiment("first", "ab", arms, time.time())
    assert event_store.running_experiment() == run and run.active
    with pytest.raises(ExperimentConflict, match="first"):
        event_store.start_experiment("second", "ab", arms, time.time())
    again = event_store.start_experiment("first", "ab", arms, time.time())
    assert again.run_id > run.run_id  # a restart is a new run with fresh results
    assert event_store.stop_experiment("first", time.time())
    assert not event_store.stop_experiment("first", time.time())
    assert event_store.running_experiment() is None
    stopped = event_store.experiment("first")
    assert stopped is not None and not stopped.active and stopped.arms == arms


def test_run_counts_are_exact(event_store: EventStore) -> None:
    arms = [{"name": "a", "weight": 1.0}, {"name": "b", "weight": 1.0}]
    run = event_store.start_experiment("exp", "ab", arms, time.time())
    lists = [
        served(["1", "2"], "u1", "exp", "a", run.run_id),
        served(["1", "3"], "u1", "exp", "a", run.run_id),
        served(["2", "3"], "u2", "exp", "b", run.run_id),
        served(["2", "3"], None, None, None, None),  # outside the experiment
    ]
    event_store.log_lists([s.record() for s in lists])
    event_store.add_events(
        [
            stored(lists[0].ranking_id, "1"),
            stored(lists[0].ranking_id, "2"),
            stored(lists[0].ranking_id, "2", "add_to_cart"),
            stored(lists[2].ranking_id, "3"),
            stored(lists[2].ranking_id, "3", "purchase"),
            stored(lists[3].ranking_id, "3"),
        ]
    )
    counts = event_store.run_counts(run.run_id, interleaved=False)
    assert counts.lists == {"a": 2, "b": 1} and counts.users == {"a": 1, "b": 1}
    assert counts.total_lists == 3
    assert counts.events == {
        ("a", "click"): 2,
        ("a", "add_to_cart"): 1,
        ("b", "click"): 1,
        ("b", "purchase"): 1,
    }
    assert counts.lists_with[("a", "click")] == 1


def test_interleaved_clicks_go_to_the_team_that_picked(event_store: EventStore) -> None:
    arms = [{"name": "a", "weight": 1.0}, {"name": "b", "weight": 1.0}]
    run = event_store.start_experiment("tdi", "interleave", arms, time.time())
    one = served(["1", "2", "3"], "u1", "tdi", None, run.run_id, ["a", "b", "a"])
    two = served(["4", "5"], "u2", "tdi", None, run.run_id, ["b", "a"])
    event_store.log_lists([one.record(), two.record()])
    event_store.add_events(
        [stored(one.ranking_id, "2"), stored(one.ranking_id, "3"), stored(two.ranking_id, "4")]
    )
    counts = event_store.run_counts(run.run_id, interleaved=True)
    assert counts.lists == {"a": 1, "b": 1}  # first picks
    assert counts.team_clicks == {one.ranking_id: {"a": 1, "b": 1}, two.ranking_id: {"b": 1}}


def test_the_log_writes_in_batches_and_waits_out_an_outage(event_store: EventStore) -> None:
    log = ListLog(event_store)
    entries = [served(["1", "2"]) for _ in range(5)]
    for entry in entries:
        log.add(entry)
    assert len(log) == 5 and event_store.count_lists() == 0
    assert log.waiting([entries[0].ranking_id]) == {entries[0].ranking_id: entries[0].record()}
    assert log.flush() == 5
    assert len(log) == 0 and event_store.count_lists() == 5
