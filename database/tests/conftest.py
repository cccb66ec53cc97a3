"""Fixtures for the database tests: a real PostgreSQL, real Dagster versions, real histories.

Run through scripts/test-database.sh (`npm run test:database`), which builds each Dagster
version's virtualenv from its hashed lock and says where they are (IMQCAM_*_PYTHON), and prints
the program's Release values (IMQCAM_RELEASE_VALUES) for the dagster.yaml of the new Dagster.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from database.tests.support import (
    MANUAL_DB,
    MANUAL_PASSWORD,
    MANUAL_ROLE,
    MANUAL_RUNS,
    MANUAL_VALUES,
    Dagster,
    Database,
    History,
    chart_instance,
    dagster_home,
    history,
    make_big,
    pg,
    python_for,
)


@pytest.fixture(scope="session")
def server():
    with pg.running() as running:
        yield running


@pytest.fixture(scope="session")
def release_values():
    return chart_instance.release_values()


@pytest.fixture(scope="session")
def make_database(server):
    """A new role and database, as the postgres image creates them from POSTGRES_USER/DB."""
    made = set()

    def _make(role: str, name: str | None = None, password: str | None = None) -> Database:
        assert role not in made, f"role {role} made twice"
        made.add(role)
        db = Database(role, password or secrets.token_urlsafe(18), name or role, server)
        server.create_role_and_database(db.role, db.password, db.name)
        return db

    return _make


@pytest.fixture(scope="session")
def new_dagster() -> Dagster:
    """The code location's Dagster, which the program deploys (1.13.27)."""
    return Dagster(python_for("IMQCAM_DAGSTER_PYTHON"))


@pytest.fixture(scope="session")
def manual_dagster() -> Dagster:
    """The manual deployment's Dagster (1.7.5)."""
    return Dagster(python_for("IMQCAM_MANUAL_DAGSTER_PYTHON"))


@pytest.fixture(scope="session")
def earlier_dagster() -> Dagster:
    """An earlier supported Dagster (1.13.0)."""
    return Dagster(python_for("IMQCAM_EARLIER_DAGSTER_PYTHON"))


@pytest.fixture(scope="session")
def manual_history(make_database, manual_dagster, tmp_path_factory) -> History:
    """Role, database and password `test` with a Dagster 1.7.5 run history: real runs, some
    failed, each with tags, run config and events. Tests must leave it as it is."""
    db = make_database(MANUAL_ROLE, MANUAL_DB, MANUAL_PASSWORD)
    home = dagster_home(tmp_path_factory.mktemp("manual-home"), MANUAL_VALUES, db)
    written = manual_dagster.history(home, db, "write", "--runs", str(MANUAL_RUNS))
    return History(db, home, written, manual_dagster.history(home, db, "read"))


@pytest.fixture(scope="session")
def manual_dump(manual_history, tmp_path_factory) -> Path:
    """A dump of the manual deployment's history, as the takeover takes it (with its .sha256)."""
    path = tmp_path_factory.mktemp("manual-dump") / "manual.dump"
    history.dump(manual_history.db.runner(), path)
    return path


@pytest.fixture(scope="session")
def unfinished_history(make_database, manual_dagster, tmp_path_factory) -> History:
    """A Dagster 1.7.5 history with one run in each unfinished status, as a deployment stopped
    in the middle of its work leaves it."""
    db = make_database("unfinished")
    values = {"postgresql": {"postgresqlUsername": db.role, "postgresqlDatabase": db.name}}
    home = dagster_home(tmp_path_factory.mktemp("unfinished-home"), values, db)
    return History(db, home, manual_dagster.history(home, db, "write-unfinished"), read=None)


@pytest.fixture(scope="session")
def big_database(make_database) -> Database:
    """A database whose dump takes long enough to be killed halfway through."""
    db = make_database("big")
    make_big(db)
    return db
