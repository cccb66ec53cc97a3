"""What every step is handed, the two ways a step ends early, and the run-history glue."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Optional

from .cluster import Cluster
from .state import State


class Stop(Exception):
    """Something is not as the takeover expects: a person decides (exit 2)."""


class Failed(Exception):
    """A command or check failed part-way; running the same command again continues (exit 1)."""


@dataclass
class Context:
    stack: str
    cluster: Cluster
    history: ModuleType  # database.history, or a fake in tests
    state: State
    out: Callable[[str], None]
    delete_old: bool = False
    inventory: Optional[dict] = None
    extra: dict = field(default_factory=dict)

    @property
    def namespace(self) -> str:
        return self.inventory["namespace"]

    @property
    def backup_dir(self) -> Path:
        return self.state.folder


POD_TIMEOUT = 600  # seconds for a pod of the old or the new release to come or go


# A HistorySummary goes into the state file as JSON and comes back from it, so the history
# before the switch can be compared after the old database is gone. Both sides of a comparison
# are passed through the same conversion, so collection types agree.
SUMMARY_FIELDS = ("run_ids", "runs_by_status", "event_log_rows", "alembic_version", "has_dagster_schema")


def _plain(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def summary_to_json(summary: Any) -> dict:
    if dataclasses.is_dataclass(summary):
        names = [f.name for f in dataclasses.fields(summary)]
    else:
        names = list(SUMMARY_FIELDS)
    return {name: _plain(getattr(summary, name)) for name in names}


def summary_from_json(history: ModuleType, data: dict) -> Any:
    return history.HistorySummary(**data)


def normalized(history: ModuleType, summary: Any) -> Any:
    return summary_from_json(history, summary_to_json(summary))


def describe_summary(data: dict) -> str:
    """`12 runs (SUCCESS: 10, FAILURE: 2), 340 event log rows` from a summary's JSON."""
    by_status = data.get("runs_by_status") or {}
    parts = ", ".join(f"{k}: {len(v) if isinstance(v, list) else v}" for k, v in sorted(by_status.items()))
    return (f"{len(data.get('run_ids') or [])} runs" + (f" ({parts})" if parts else "")
            + f", {data.get('event_log_rows', 0)} event log rows")
