"""How much the takeover's and the backups' safety costs, against the bare PostgreSQL tools.

    npm run bench:database              (bash scripts/test-database.sh --bench [--runs N] [--repeats R])

On a history of 1,000 trivial runs written by Dagster 1.7.5 into a throw-away PostgreSQL
(tests/harness), it times, as the median of a few repeats:
  - history.dump   (pg_dump streamed to a file, read back to its end, sha256, rename)
  - backup.sh      (the same on the share, plus pruning)       both against a bare `pg_dump -Fc`
  - history.restore (summary, checksum, one-transaction pg_restore, summary)
                                                               against a bare `pg_restore`
  - `dagster instance migrate` with the new Dagster, on a freshly restored 1.7.5 history,
                                                               against the same bare `pg_restore`
Writing 1,000 runs takes Dagster minutes, so the history is kept as a dump in .cache/bench/
(keyed by the writer and its lock) and restored on later runs.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

from database import history
from database.tests.support import MANUAL_VALUES, Dagster, Database, dagster_home, python_for
from tests.harness import postgres_server as pg


def timed(action, *args, **kwargs) -> float:
    start = time.perf_counter()
    action(*args, **kwargs)
    return time.perf_counter() - start


class Bench:
    def __init__(self, server: pg.PostgresServer, work: Path):
        self.server, self.work, self.count = server, work, 0

    def database(self, prefix: str) -> Database:
        self.count += 1
        name = f"{prefix}_{self.count}"
        db = Database(name, f"pw-{name}", name, self.server)
        self.server.create_role_and_database(db.role, db.password, db.name)
        return db

    def tool(self, db: Database, *argv: str) -> None:
        """A bare PostgreSQL tool as the database's role, the password in its environment."""
        env = {**db.env(), "PGPASSWORD": db.password}
        subprocess.run(argv, env=env, check=True, capture_output=True)

    def bare_dump(self, db: Database, dest: Path) -> None:
        self.tool(db, "pg_dump", "--format=custom", f"--username={db.role}", f"--dbname={db.name}", f"--file={dest}")

    def bare_restore(self, db: Database, dump: Path) -> None:
        self.tool(db, "pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
                  f"--username={db.role}", f"--dbname={db.name}", str(dump))


def source_history(bench: Bench, manual: Dagster, runs: int) -> Database:
    """Role, database and password `test` holding `runs` runs written by Dagster 1.7.5."""
    lock = REPO / "database" / "tests" / "dagster-1.7.5.lock"
    writer = REPO / "database" / "tests" / "dagster_history.py"
    key = hashlib.sha256(lock.read_bytes() + writer.read_bytes() + str(runs).encode()).hexdigest()[:16]
    cached = REPO / ".cache" / "bench" / f"history-{runs}-{key}.dump"
    db = Database("test", "test", "test", bench.server)
    bench.server.create_role_and_database(db.role, db.password, db.name)
    if cached.exists():
        print(f"history: {cached.relative_to(REPO)} (cached)")
        bench.bare_restore(db, cached)
        return db
    print(f"history: writing {runs} runs with Dagster {manual.version}, two writers (a few minutes, once)...")
    home = dagster_home(bench.work / "manual-home", MANUAL_VALUES, db)
    manual.history(home, db, "read")  # creates the tables once, before two writers race to
    start = time.perf_counter()
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "DAGSTER_HOME": str(home), "DAGSTER_PG_PASSWORD": db.password}
    half = runs // 2
    writers = [subprocess.Popen([manual.python, str(writer), "write", "--runs", str(n), "--first", str(first)],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for first, n in ((0, half), (half, runs - half))]
    if any(w.wait() != 0 for w in writers):
        raise SystemExit("writing the history failed")
    print(f"history: written in {time.perf_counter() - start:.0f}s")
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".partial")
    bench.bare_dump(db, tmp)
    for earlier in cached.parent.glob(f"history-{runs}-*.dump"):
        earlier.unlink()  # written by an earlier writer or lock
    tmp.replace(cached)
    return db


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    manual = Dagster(python_for("IMQCAM_MANUAL_DAGSTER_PYTHON"))
    new = Dagster(python_for("IMQCAM_DAGSTER_PYTHON"))
    import yaml  # the new Dagster's interpreter runs this file: PyYAML is there

    release_values = yaml.safe_load(Path(os.environ["IMQCAM_RELEASE_VALUES"]).read_text())

    server = pg.start()
    work = Path(tempfile.mkdtemp(prefix="imqcam-bench-"))
    try:
        bench = Bench(server, work)
        source = source_history(bench, manual, args.runs)
        summary = history.summary(source.runner())
        print(f"source: {summary.describe()}")

        times: dict[str, list[float]] = {k: [] for k in
                                         ("pg_dump", "history.dump", "backup.sh", "pg_restore", "history.restore",
                                          "migrate", "import")}
        share = work / "share"
        share.mkdir()
        backup_env = {**source.env(), "BACKUP_ROOT": str(share), "BACKUP_DIR": str(share / "backups"),
                      "BACKUP_NAME": "bench", "BACKUP_KEEP": "1"}
        reference = work / "reference.dump"
        bench.bare_dump(source, reference)
        size = reference.stat().st_size
        for i in range(args.repeats):
            out = work / f"round-{i}"
            out.mkdir()
            times["pg_dump"].append(timed(bench.bare_dump, source, out / "bare.dump"))
            times["history.dump"].append(timed(history.dump, source.runner(), out / "history.dump"))
            time.sleep(1.1)  # backup.sh names files by the second
            times["backup.sh"].append(timed(subprocess.run, ["sh", str(REPO / "database" / "backup.sh")],
                                            env=backup_env, check=True, capture_output=True))

            bare_target = bench.database("bare")
            times["pg_restore"].append(timed(bench.bare_restore, bare_target, reference))
            target = bench.database("restored")
            times["history.restore"].append(timed(history.restore, target.runner(), reference))
            # Migrate the 1.7.5 history just restored, as the takeover does.
            home = dagster_home(work / f"home-{i}", release_values, target)
            times["migrate"].append(timed(new.migrate, home, target))
            # The part of it that is only starting Python and importing Dagster.
            times["import"].append(timed(subprocess.run, [new.python, "-c", "import dagster"], check=True))
            shutil.rmtree(out)

        median = {k: statistics.median(v) for k, v in times.items()}
        print(f"\n{args.runs} runs, {summary.event_log_rows} event log rows, dump {size / 1e6:.1f} MB; "
              f"median of {args.repeats} (seconds, and ratio to the bare tool)")
        rows = [("pg_dump -Fc (bare)", "pg_dump", "pg_dump"), ("history.dump", "history.dump", "pg_dump"),
                ("backup.sh", "backup.sh", "pg_dump"), ("pg_restore (bare)", "pg_restore", "pg_restore"),
                ("history.restore", "history.restore", "pg_restore"),
                (f"dagster instance migrate ({new.version})", "migrate", "pg_restore"),
                ("  of which starting Python + import dagster", "import", "pg_restore")]
        for label, key, base in rows:
            print(f"  {label:<44} {median[key]:7.2f} s  {median[key] / median[base]:6.1f} x bare {base}")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
