"""The broker keeps a long step's queued neighbour: a real RabbitMQ with the program's own configuration
file, and a real Celery worker under dagster_celery's defaults.

A celery-k8s task holds its worker process for its whole step Job, and under dagster_celery's defaults
(prefork pool, prefetch, early acknowledgement) the next message is delivered and then waits,
unacknowledged, behind it. RabbitMQ closes a channel whose oldest unacknowledged delivery is older than
`consumer_timeout` (30 minutes by default), and the Celery worker then exits.

Both brokers here start with a 1-second `consumer_timeout` in rabbitmq.conf, standing in for that
default. The control case, a broker without the program's file, shows the worker exit; with the
program's file every step runs exactly once and the worker stays up, so the file must lift the
timeout for the test to pass. The file is the one the program mounts into the broker's pod: the test
follows the kde04 StatefulSet's RABBITMQ_ADVANCED_CONFIG_FILE to its volume mount and ConfigMap, in the
objects the program sends (scripts/objects.ts, printed into IMQCAM_KUBERNETES_OBJECTS by
scripts/test-code-location.sh). RabbitMQ is Debian's (tests/harness/rabbitmq_server.py); Celery and
RabbitMQ talk over 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import amqp
import pytest

HERE = Path(__file__).resolve().parent

from tests.broker import celery_sleep_tasks as tasks
from tests.harness import rabbitmq_server

#: The user comes from the program; the password, as generated, would need no escaping (letters and
#: digits), so the test uses one with every URL-special character, escaped as the URL needs.
PASSWORD = "p/a+s=s@w:o%rd#?&"
#: Both brokers' rabbitmq.conf: a short stand-in for RabbitMQ's 30-minute default.
SHORT_DEFAULT = "consumer_timeout = 1000\n"
#: Five times the short timeout: RabbitMQ checks it several times while a step waits.
TASK_SECONDS = 5
TASK_IDS = ["step-1", "step-2"]
WORKER_READY_SECONDS = 60
WORKER_STOP_SECONDS = 30
#: dagster_celery.defaults (worker_prefetch_multiplier = 4), and what `dagster-celery worker start`,
#: the chart's worker command, passes on the command line.
PREFETCH = {
    "dagster_celery.defaults": [],
    "dagster-celery worker start": ["--prefetch-multiplier=1"],
}


def _program_broker() -> tuple[str, str]:
    """The broker's user and its advanced.config, as kde04's broker pod reads them."""
    folder = os.environ.get("IMQCAM_KUBERNETES_OBJECTS")
    if not folder:
        raise RuntimeError("IMQCAM_KUBERNETES_OBJECTS is not set: run through `npm run test:code-location`")
    objects = json.loads((Path(folder) / "kde04.json").read_text())
    [broker] = [o for o in objects if o["kind"] == "StatefulSet"
                and o["metadata"]["labels"].get("app.kubernetes.io/name") == "rabbitmq"]
    pod = broker["spec"]["template"]["spec"]
    [container] = [c for c in pod["containers"] if c["name"] == "rabbitmq"]
    env = {e["name"]: e for e in container["env"]}
    path = env["RABBITMQ_ADVANCED_CONFIG_FILE"]["value"]
    [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == path]
    [volume] = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    [config_map] = [o for o in objects if o["kind"] == "ConfigMap"
                    and o["metadata"]["name"] == volume["configMap"]["name"]
                    and o["metadata"]["namespace"] == broker["metadata"]["namespace"]]
    return env["RABBITMQ_DEFAULT_USER"]["value"], config_map["data"][mount["subPath"]]


# For speed only, in both brokers' advanced.config: RabbitMQ checks the timeout every
# channel_tick_interval (60 s by default), so a failing case shows within seconds.
FAST_TICK = "{channel_tick_interval, 1000}"
#: The control: a broker without the program's file.
CONTROL_ADVANCED_CONFIG = f"[{{rabbit, [{FAST_TICK}]}}].\n"


def _with_fast_tick(config: str) -> str:
    changed, count = re.subn(r"\{rabbit,\s*\[", f"{{rabbit, [{FAST_TICK}, ", config)
    assert count == 1, f"expected one {{rabbit, [...]}} in the program's advanced.config:\n{config}"
    return changed


class Worker:
    """`celery -A celery_sleep_tasks worker` for queue `dagster`, one pool process, in its own session."""

    def __init__(self, folder: Path, broker_url: str, extra_args: list[str]):
        config = folder / "config"
        config.mkdir()
        # What `dagster-celery worker start -y <config>` writes (dagster_celery.cli.get_config_dir);
        # dagster_celery's make_app reads it over dagster_celery.defaults.
        (config / "dagster_celery_config.py").write_text(
            f"broker_url = {broker_url!r}\nresult_backend = 'rpc://'\n"
        )
        self.record = folder / "record.txt"
        self.log = folder / "worker.log"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(config), str(HERE)]),
               tasks.RECORD_ENV: str(self.record)}
        # One pool process: the second task waits behind the first, as it does on a worker whose
        # processes all wait for step Jobs.
        command = [sys.executable, "-m", "celery", "-A", "celery_sleep_tasks", "worker", *extra_args,
                   "--loglevel", "INFO", "-Q", tasks.QUEUE, "-n", "dagster-test@%h", "--concurrency", "1"]
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(command, env=env, cwd=folder, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def events(self) -> list[str]:
        return self.record.read_text().splitlines() if self.record.exists() else []

    def wait_until(self, condition, seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"not within {seconds}s: {what}\n{self.output()}")
            time.sleep(0.2)

    def wait_ready(self) -> None:
        self.wait_until(lambda: " ready." in self.output() or self.process.poll() is not None,
                        WORKER_READY_SECONDS, "the worker ready")
        assert self.process.poll() is None, f"the worker exited on start:\n{self.output()}"

    def stop(self) -> int:
        """A warm shutdown (SIGTERM), as Kubernetes stops a pod; then nothing of it is left running."""
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
            return self.process.wait(WORKER_STOP_SECONDS)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)  # the pool's children, if any outlived it
            self.process.wait()


@contextlib.contextmanager
def _worker(folder: Path, server, extra_args: list[str]):
    worker = Worker(folder, server.broker_url(), extra_args)
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()


def _queue_steps(server) -> None:
    """Two steps at once, as a run's executor submits them (queue `dagster`, routed as dagster_celery_k8s does)."""
    with tasks.app.connection_for_write(server.broker_url()) as connection:
        producer = tasks.app.amqp.Producer(connection)
        for task_id in TASK_IDS:
            tasks.wait_for_step.apply_async((TASK_SECONDS,), task_id=task_id, producer=producer)


def _broker_connection(server) -> amqp.Connection:
    """A plain AMQP connection (it connects on `with`), to look at and clear the queue."""
    return amqp.Connection(f"{rabbitmq_server.HOST}:{server.port}", userid=server.user, password=server.password)


def _empty_queue(server) -> None:
    """What an earlier case left behind (the control's worker leaves its unacknowledged task)."""
    with _broker_connection(server) as connection:
        connection.channel().queue_delete(tasks.QUEUE)


def _messages_waiting(server) -> int:
    """Messages ready in the queue once no worker consumes it: the broker requeues what a worker
    held only when it has seen that worker's connection close, which takes a moment under load."""
    deadline = time.monotonic() + 60
    with _broker_connection(server) as connection:
        channel = connection.channel()
        while True:
            declared = channel.queue_declare(tasks.QUEUE, passive=True)
            if declared.consumer_count == 0 or time.monotonic() > deadline:
                return declared.message_count
            time.sleep(0.2)


@pytest.fixture(scope="module")
def brokers():
    """The control's broker and the program's, booted side by side (5-7 s each), removed after."""
    user, config = _program_broker()
    files = {"control": CONTROL_ADVANCED_CONFIG, "program": _with_fast_tick(config)}
    with ThreadPoolExecutor(len(files)) as pool:
        futures = {name: pool.submit(rabbitmq_server.start, text, user, PASSWORD, SHORT_DEFAULT)
                   for name, text in files.items()}
        servers, errors = {}, []
        for name, future in futures.items():
            try:
                servers[name] = future.result()
            except Exception as exc:  # raised once the other broker is stopped too
                errors.append(exc)
    try:
        if errors:
            raise errors[0]
        yield servers
    finally:
        for server in servers.values():
            server.stop()


@pytest.fixture
def control_server(brokers):
    return brokers["control"]


@pytest.fixture
def program_server(brokers):
    return brokers["program"]


@pytest.mark.parametrize("prefetch", PREFETCH.values(), ids=PREFETCH.keys())
def test_control_without_the_programs_file_the_worker_exits(control_server, tmp_path, prefetch):
    _empty_queue(control_server)
    with _worker(tmp_path, control_server, prefetch) as worker:
        _queue_steps(control_server)
        worker.wait_until(lambda: worker.process.poll() is not None, 2 * TASK_SECONDS + 30,
                          "the worker's exit after the broker closed its channel")
        output = worker.output()
        print(output)
    assert worker.process.returncode == 1, output
    assert re.search(r"Unrecoverable error: PreconditionFailed\(406, 'PRECONDITION_FAILED - "
                     r"delivery acknowledgement on channel 1 timed out", output), output
    assert "timed out waiting for" in control_server.log()
    # The step behind the first never started: it is back in the queue, waiting for a restart.
    assert "start step-2" not in worker.events()
    assert _messages_waiting(control_server) == 1


@pytest.mark.parametrize("prefetch", PREFETCH.values(), ids=PREFETCH.keys())
def test_under_the_programs_configuration_every_step_runs_once_and_the_worker_stays(program_server, tmp_path,
                                                                                     prefetch):
    _empty_queue(program_server)
    with _worker(tmp_path, program_server, prefetch) as worker:
        _queue_steps(program_server)
        worker.wait_until(lambda: len(worker.events()) == 2 * len(TASK_IDS) or worker.process.poll() is not None,
                          len(TASK_IDS) * TASK_SECONDS + 30, "both steps finished")
        assert worker.process.poll() is None, f"the worker exited:\n{worker.output()}"
    output = worker.output()
    assert worker.process.returncode == 0, output
    assert worker.events() == [f"{event} {task_id}" for task_id in TASK_IDS for event in ("start", "end")]
    assert _messages_waiting(program_server) == 0, "nothing is left to run again"
    # The premise: step-2 was delivered while step-1 ran, and waited unacknowledged for all of it,
    # several times the control's timeout.
    received = output.index(f"[{TASK_IDS[1]}] received")
    assert received < output.index(f"[{TASK_IDS[0]}] succeeded"), output
    assert "PreconditionFailed" not in output
    assert "timed out" not in program_server.log()
