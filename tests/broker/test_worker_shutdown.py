"""A Celery worker stopped as Kubernetes stops a pod (SIGTERM) finishes the step it watches and hands
back the ones it had prefetched, when it is given the time: a real RabbitMQ with the program's own
configuration, and a real Celery worker under dagster_celery's defaults (as test_consumer_timeout.py).

The time is the grace period the program patches onto the chart's worker Deployment
(src/components/celeryWorkerShutdown.ts): longer than a celery-k8s task may wait for its step Job, which
is the executor's `job_wait_timeout`, whose default this test reads from the pinned Dagster."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

from tests.broker import celery_sleep_tasks as tasks
from tests.broker.test_consumer_timeout import (
    PASSWORD,
    SHORT_DEFAULT,
    TASK_SECONDS,
    _empty_queue,
    _messages_waiting,
    _program_broker,
    _with_fast_tick,
    _worker,
)
from tests.harness import rabbitmq_server

REPO = HERE.parents[1]
STEPS = ["step-1", "step-2", "step-3"]


@pytest.fixture(scope="module")
def server():
    user, config = _program_broker()
    broker = rabbitmq_server.start(_with_fast_tick(config), user, PASSWORD, SHORT_DEFAULT)
    try:
        yield broker
    finally:
        broker.stop()


def _queue(server, task_ids: list) -> None:
    with tasks.app.connection_for_write(server.broker_url()) as connection:
        producer = tasks.app.amqp.Producer(connection)
        for task_id in task_ids:
            tasks.wait_for_step.apply_async((TASK_SECONDS,), task_id=task_id, producer=producer)


def test_a_stopped_worker_finishes_its_step_and_hands_back_the_rest(server, tmp_path):
    _empty_queue(server)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with _worker(tmp_path / "a", server, []) as first:
        _queue(server, STEPS)
        first.wait_until(lambda: "start step-1" in first.events(), 30, "step-1 started")
        # The premise: it holds the other two, prefetched (dagster_celery's prefetch multiplier 4).
        first.wait_until(lambda: f"[{STEPS[2]}] received" in first.output(), 30, "step-3 prefetched")
    # _worker's exit sent SIGTERM mid-step: the worker waited for the step, and took no other.
    assert first.process.returncode == 0, first.output()
    assert first.events() == ["start step-1", "end step-1"]
    assert re.search(r"worker: Warm shutdown", first.output()), first.output()
    assert _messages_waiting(server) == 2, "the prefetched steps are back in the queue"
    with _worker(tmp_path / "b", server, []) as second:
        second.wait_until(lambda: len(second.events()) == 4, 2 * TASK_SECONDS + 30, "the handed-back steps ran")
    assert second.events() == [f"{event} {step}" for step in STEPS[1:] for event in ("start", "end")]
    assert _messages_waiting(server) == 0


def test_control_killed_before_its_step_ends_the_worker_loses_that_step(server, tmp_path):
    """What Kubernetes' default 30 s grace does to a step that runs longer: the step, acknowledged when
    it started, is gone with the worker, and the run would wait for its result for ever."""
    _empty_queue(server)
    with _worker(tmp_path, server, []) as worker:
        _queue(server, STEPS)
        worker.wait_until(lambda: "start step-1" in worker.events(), 30, "step-1 started")
        worker.process.send_signal(signal.SIGTERM)
        time.sleep(1)  # the grace period, ended long before the step
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait()
    assert worker.events() == ["start step-1"]
    assert _messages_waiting(server) == 2, "only the prefetched steps come back; step-1 is lost"


def test_the_grace_period_outlasts_the_longest_wait_for_a_step():
    from dagster_celery_k8s.config import celery_k8s_executor_config
    from dagster_k8s.client import DEFAULT_WAIT_TIMEOUT

    default = celery_k8s_executor_config()["job_wait_timeout"].default_value
    source = (REPO / "src" / "components" / "celeryWorkerShutdown.ts").read_text()
    assumed = int(re.search(r"STEP_JOB_WAIT_SECONDS = (\d+);", source).group(1))
    grace = assumed + int(re.search(r"CELERY_WORKER_GRACE_SECONDS = STEP_JOB_WAIT_SECONDS \+ (\d+);", source).group(1))
    assert default == DEFAULT_WAIT_TIMEOUT == assumed
    assert grace > default
