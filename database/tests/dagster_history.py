"""Write and read a run history with whichever Dagster runs this file (1.7.5, 1.13.0, 1.13.27).

The tests run it with each version's own interpreter, DAGSTER_HOME pointing at a dagster.yaml
for the database under test, and compare what the versions read. It uses only APIs that all
three versions share. Commands (JSON on stdout):

  write --runs N [--first I]   N real runs of a small job: every third one fails, each has its
                               own tags and run config. Prints their ids and statuses.
  write-unfinished             one run in each status that is not finished, as a run that a
                               stopped deployment left behind would be (written directly).
  read                         every run (id, job, status, tags, run config) with its events.
"""

from __future__ import annotations

import argparse
import json
import sys

from dagster import DagsterEvent, DagsterEventType, DagsterInstance, job, op

# A run left in each unfinished status, reached through the events a deployment writes on the
# way there (a run is created NOT_STARTED; the run storage follows these events).
UNFINISHED = {
    "NOT_STARTED": [],
    "QUEUED": [DagsterEventType.RUN_ENQUEUED],
    "STARTING": [DagsterEventType.RUN_STARTING],
    "STARTED": [DagsterEventType.RUN_STARTING, DagsterEventType.RUN_START],
    "CANCELING": [DagsterEventType.RUN_STARTING, DagsterEventType.RUN_START, DagsterEventType.RUN_CANCELING],
}


@op(config_schema={"factor": int})
def produce(context) -> int:
    return context.op_config["factor"] * 2


@op
def check(context, value: int) -> int:
    context.log.info(f"checking {value}")
    if value < 0:
        raise ValueError(f"negative value {value}")
    return value


@job
def history_job():
    check(produce())


def write(instance: DagsterInstance, runs: int, first: int) -> list[dict]:
    written = []
    for i in range(first, first + runs):
        factor = -i if i % 3 == 2 else i
        result = history_job.execute_in_process(
            run_config={"ops": {"produce": {"config": {"factor": factor}}}},
            instance=instance,
            tags={"imqcam/batch": str(i), "imqcam/kind": "failing" if factor < 0 else "ok"},
            raise_on_error=False,
        )
        run = instance.get_run_by_id(result.run_id)
        written.append({"run_id": run.run_id, "status": run.status.value})
    return written


def _code_server_origin():
    """Where the daemon would launch the run from: the code location's gRPC server, as in the
    deployment. Dagster refuses to queue a run without one."""
    from dagster._core.remote_representation.origin import (
        GrpcServerCodeLocationOrigin,
        RemoteJobOrigin,
        RemoteRepositoryOrigin,
    )

    location = GrpcServerCodeLocationOrigin(host="imqcam", port=3030, location_name="imqcam")
    return RemoteJobOrigin(RemoteRepositoryOrigin(location, "__repository__"), "history_job")


def write_unfinished(instance: DagsterInstance) -> list[dict]:
    written = []
    for status, events in UNFINISHED.items():
        run = instance.create_run_for_job(
            job_def=history_job,
            run_config={"ops": {"produce": {"config": {"factor": 1}}}},
            tags={"imqcam/left-behind": status},
            external_job_origin=_code_server_origin(),  # 1.7.5's name: only 1.7.5 writes these
        )
        for event_type in events:
            instance.report_dagster_event(
                DagsterEvent(event_type_value=event_type.value, job_name=run.job_name), run_id=run.run_id
            )
        run = instance.get_run_by_id(run.run_id)
        written.append({"run_id": run.run_id, "status": run.status.value})
    return written


def read(instance: DagsterInstance) -> list[dict]:
    runs = []
    for run in sorted(instance.get_runs(), key=lambda r: r.run_id):
        events = []
        for record in instance.all_logs(run.run_id):
            event = record.dagster_event
            events.append(
                {
                    "type": event.event_type_value if event else "LOG",
                    "step": record.step_key,
                    "message": record.user_message,
                }
            )
        runs.append(
            {
                "run_id": run.run_id,
                "job_name": run.job_name,
                "status": run.status.value,
                "tags": dict(run.tags),
                "run_config": run.run_config,
                "events": events,
            }
        )
    return runs


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("write")
    w.add_argument("--runs", type=int, required=True)
    w.add_argument("--first", type=int, default=0)
    sub.add_parser("write-unfinished")
    sub.add_parser("read")
    args = parser.parse_args()

    with DagsterInstance.get() as instance:
        if args.command == "write":
            out = write(instance, args.runs, args.first)
        elif args.command == "write-unfinished":
            out = write_unfinished(instance)
        else:
            out = read(instance)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
