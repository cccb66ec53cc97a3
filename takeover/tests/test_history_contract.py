"""The takeover against the real database/history.py: the names and shapes it relies on, and that a
summary survives the state file (JSON) so the history before the switch can be verified after it."""
import dataclasses
import inspect

import pytest

from database import history as run_history
from takeover.context import normalized, summary_from_json, summary_to_json


@pytest.fixture(scope="module")
def history():
    return run_history


def test_the_api_the_takeover_calls(history):
    assert list(inspect.signature(history.PodRunner).parameters)[:4] == ["namespace", "pod", "container", "kubectl"]
    for name in ("summary", "runs_in_progress", "dump", "restore", "verify"):
        assert callable(getattr(history, name)), name
    assert "log" in inspect.signature(history.restore).parameters
    assert issubclass(history.HistoryError, Exception)
    fields = {f.name for f in dataclasses.fields(history.HistorySummary)}
    assert {"run_ids", "runs_by_status", "event_log_rows", "alembic_version", "has_dagster_schema"} <= fields


def test_a_summary_round_trips_through_the_state_file_and_still_verifies(history):
    before = history.HistorySummary(run_ids=("b", "a"), runs_by_status={"SUCCESS": 1, "FAILURE": 1},
                                    event_log_rows=42, alembic_version="46b412388816", has_dagster_schema=True,
                                    database="test")
    stored = summary_to_json(before)
    assert stored["run_ids"] == ["b", "a"] and stored["event_log_rows"] == 42
    back = summary_from_json(history, stored)
    after = dataclasses.replace(before, alembic_version="29b539ebc72a", database="dagster")
    history.verify(back, normalized(history, after))  # the migration moves only the schema revision
    fewer = dataclasses.replace(before, event_log_rows=41)
    with pytest.raises(history.HistoryError, match="event log rows: 42 before, 41 after"):
        history.verify(back, normalized(history, fewer))


def test_runs_in_progress_read_from_a_stored_summary(history):
    stored = summary_to_json(history.HistorySummary(
        run_ids=("a",), runs_by_status={"STARTED": 1}, event_log_rows=3, alembic_version=None,
        has_dagster_schema=True))
    assert history.runs_in_progress(summary_from_json(history, stored)) == {"STARTED": 1}
