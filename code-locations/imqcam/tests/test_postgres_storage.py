"""Runs through the doors the pods use, against a real PostgreSQL.

The instance is dagster.yaml as the chart renders it from the program's own Release values
(tests/harness/chart_instance.py), so a change to the program's PostgreSQL values is tested here. The run
worker Job of the CeleryK8sRunLauncher runs `dagster api execute_run`; each step Job of the
celery-k8s executor runs `dagster api execute_step`. Both are called here with the very
arguments those launchers build, in fresh interpreters, with the password only in the
environment as the pods get it from the Secret.
"""

from __future__ import annotations

import os
import pickle
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus
from dagster._cli.api import ExecuteRunArgs, ExecuteStepArgs
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster._core.execution.plan.state import KnownExecutionState
from dagster._core.execution.retries import RetryMode
from dagster._core.storage.dagster_run import DagsterRun

from tests.harness import chart_instance
from tests.harness import postgres_server as pg

CODE_LOCATION_DIR = Path(__file__).resolve().parent.parent
RUN_CONFIG = {"ops": {"multiply_the_word": {"inputs": {"word": "abc"}, "config": {"factor": 2}}}}
EXPECTED_COUNTS = {"a": 2, "b": 2, "c": 2}


@pytest.fixture(scope="session")
def release_values():
    return chart_instance.release_values()


@pytest.fixture(scope="session")
def database(postgres_server, release_values):
    """The role and database the program's values name, created as the postgres image would."""
    values_pg = release_values["postgresql"]
    password = secrets.token_urlsafe(24)
    postgres_server.create_role_and_database(
        values_pg["postgresqlUsername"], password, values_pg["postgresqlDatabase"]
    )
    return password


def _dagster_home(root: Path, values: dict, server: pg.PostgresServer, io_dir: Path | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    yaml_text = chart_instance.instance_yaml(values, pg.HOST, server.port, str(io_dir) if io_dir else None)
    (root / "dagster.yaml").write_text(yaml_text)
    return root


@pytest.fixture
def pod_env(tmp_path, database, monkeypatch):
    """The environment of a run or step pod: the password from the Secret, the IO volume's path."""
    io_dir = tmp_path / "io"
    io_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMQCAM_", "DAGSTER_"))}
    env.update(
        {
            chart_instance.PASSWORD_ENV: database,
            "IMQCAM_IO_MOUNT_PATH": str(io_dir),
            "PYTHONPATH": str(CODE_LOCATION_DIR),
        }
    )
    monkeypatch.setenv(chart_instance.PASSWORD_ENV, database)
    return env


@pytest.fixture
def instance(tmp_path, release_values, postgres_server, pod_env):
    # The IO volume, as every pod mounts it: outputs and compute logs.
    home = _dagster_home(tmp_path / "dagster_home", release_values, postgres_server, tmp_path / "io")
    with DagsterInstance.from_config(str(home)) as inst:
        yield inst


def _repository() -> ReconstructableRepository:
    # As the code server serves it (`--module-name imqcam --attribute defs`); the entry point is
    # this interpreter's `python -m dagster`, where the image has `dagster` on its PATH.
    return ReconstructableRepository.for_module(
        "imqcam", "defs", working_directory=str(CODE_LOCATION_DIR)
    )._replace(entry_point=[sys.executable, "-m", "dagster"])


def _create_run(instance: DagsterInstance, job_name: str) -> DagsterRun:
    recon_job = _repository().get_reconstructable_job(job_name)
    return instance.create_run_for_job(
        job_def=recon_job.get_definition(),
        run_config=RUN_CONFIG,
        job_code_origin=recon_job.get_python_origin(),
    )


def _run_pod_command(args: list[str], env: dict) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, f"{args[:4]} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _event_types(instance: DagsterInstance, run_id: str, step_key: str | None = None) -> list:
    return [
        e.dagster_event.event_type
        for e in instance.all_logs(run_id)
        if e.dagster_event is not None and (step_key is None or e.step_key == step_key)
    ]


def _stored_output(io_dir: str, run_id: str, step_key: str):
    # FilesystemIOManager: <base_dir>/<run_id>/<step_key>/<output name>, pickled.
    return pickle.loads((Path(io_dir) / run_id / step_key / "result").read_bytes())


def test_values_name_the_psycopg2_driver(release_values):
    # SQLAlchemy 2.1 (in the lock) reads a bare postgresql:// as psycopg 3, which dagster-postgres
    # does not install; the scheme makes every image agree on psycopg2.
    assert release_values["postgresql"]["postgresqlScheme"] == "postgresql+psycopg2"


def test_instance_opens_the_charts_postgres_storage(instance):
    storages = (instance.run_storage, instance.event_log_storage, instance.schedule_storage)
    assert [type(s).__name__ for s in storages] == [
        "PostgresRunStorage",
        "PostgresEventLogStorage",
        "PostgresScheduleStorage",
    ]
    assert instance.get_runs() is not None  # a real query over the connection


def test_without_the_scheme_the_storage_does_not_open(tmp_path, release_values, postgres_server, pod_env):
    """Why the scheme is set: with the lock's SQLAlchemy, a bare postgresql:// needs psycopg 3.

    If a future lock changes that default, this test says so; the scheme stays correct either way.
    """
    values = {**release_values, "postgresql": {**release_values["postgresql"]}}
    values["postgresql"].pop("postgresqlScheme", None)
    home = _dagster_home(tmp_path / "no_scheme", values, postgres_server)
    with pytest.raises(ModuleNotFoundError, match="psycopg"):
        DagsterInstance.from_config(str(home)).get_runs()


def test_example_job_runs_through_the_run_workers_entry_point(instance, pod_env):
    run = _create_run(instance, "example_job")
    # What CeleryK8sRunLauncher.launch_run puts in the run worker Job's container args.
    args = ExecuteRunArgs(
        job_origin=run.job_code_origin,
        run_id=run.run_id,
        instance_ref=instance.get_ref(),
        set_exit_code_on_failure=True,
    ).get_command_args()
    assert list(args[-3:-1]) == ["api", "execute_run"]
    _run_pod_command(list(args), pod_env)

    stored = instance.get_run_by_id(run.run_id)
    assert stored.status == DagsterRunStatus.SUCCESS
    events = _event_types(instance, run.run_id)
    assert events.count(DagsterEventType.STEP_SUCCESS) == 2
    assert DagsterEventType.RUN_SUCCESS in events
    assert _stored_output(pod_env["IMQCAM_IO_MOUNT_PATH"], run.run_id, "count_letters") == EXPECTED_COUNTS


def test_celery_job_steps_run_through_the_step_entry_point(instance, pod_env):
    run = _create_run(instance, "pod_per_op_celery_job")

    def step_args(step_key: str) -> list[str]:
        # What the celery-k8s executor sends each step Job (dagster_celery_k8s/executor.py).
        return list(
            ExecuteStepArgs(
                job_origin=run.job_code_origin,
                run_id=run.run_id,
                step_keys_to_execute=[step_key],
                instance_ref=instance.get_ref(),
                retry_mode=RetryMode.DISABLED,
                known_state=KnownExecutionState(),
                should_verify_step=True,
                print_serialized_events=True,
            ).get_command_args()
        )

    for step_key in ("multiply_the_word", "count_letters"):
        _run_pod_command(step_args(step_key), pod_env)
        assert DagsterEventType.STEP_SUCCESS in _event_types(instance, run.run_id, step_key)

    io_dir = pod_env["IMQCAM_IO_MOUNT_PATH"]
    assert _stored_output(io_dir, run.run_id, "multiply_the_word") == "abcabc"
    assert _stored_output(io_dir, run.run_id, "count_letters") == EXPECTED_COUNTS

    # A step pod that Kubernetes restarts after its step ran must not run it twice: the step
    # entry point checks the run's event log in PostgreSQL and exits cleanly.
    _run_pod_command(step_args("multiply_the_word"), pod_env)
    assert _event_types(instance, run.run_id, "multiply_the_word").count(DagsterEventType.STEP_SUCCESS) == 1
    assert any(
        "already started" in (e.message or "")
        for e in instance.all_logs(run.run_id)
        if e.step_key == "multiply_the_word"
    )


def test_what_a_step_printed_is_readable_after_its_process_is_gone(instance, pod_env, tmp_path):
    run = _create_run(instance, "example_job")
    args = ExecuteRunArgs(job_origin=run.job_code_origin, run_id=run.run_id,
                          instance_ref=instance.get_ref(), set_exit_code_on_failure=True).get_command_args()
    _run_pod_command(list(args), pod_env)  # the run worker's process ends here

    # Files under the IO volume's compute-logs folder, not the pod's own disk.
    io_dir = Path(pod_env["IMQCAM_IO_MOUNT_PATH"])
    assert any((io_dir / "compute-logs").rglob("*")), "no compute log under the IO volume"

    # As the webserver reads them: its own instance from the same dagster.yaml, through Dagster's API.
    with DagsterInstance.from_ref(instance.get_ref()) as webserver:
        captured = [
            e.dagster_event.logs_captured_data
            for e in webserver.all_logs(run.run_id)
            if e.dagster_event is not None and e.dagster_event.event_type == DagsterEventType.LOGS_CAPTURED
        ]
        assert captured, "no LOGS_CAPTURED event: compute logs are not kept"
        logs = webserver.compute_log_manager
        printed = b"".join(
            logs.get_log_data(logs.build_log_key_for_run(run.run_id, c.file_key)).stdout or b"" for c in captured
        ).decode()
    assert "multiplying 'abc' by 2" in printed
