"""The Celery app the test's worker runs (`celery -A celery_sleep_tasks worker`): built by dagster_celery
as the chart's workers build theirs (make_app_with_task_routes, as dagster_celery_k8s.app does, with
dagster_celery.defaults and the `dagster_celery_config` module that `dagster-celery worker start`
writes), with one task that stands in for a celery-k8s step: it holds its worker process while it
waits, and writes down each start and end.
"""

import os
import time

from dagster_celery.make_app import make_app_with_task_routes

QUEUE = "dagster"
TASK_NAME = "imqcam_broker_test.wait_for_step"
RECORD_ENV = "IMQCAM_BROKER_TEST_RECORD"

# Routed as dagster_celery_k8s.app routes execute_step_k8s_job.
app = make_app_with_task_routes(
    task_routes={TASK_NAME: {"queue": QUEUE, "routing_key": f"{QUEUE}.{TASK_NAME}"}}
)


def _record(event: str, task_id: str) -> None:
    with open(os.environ[RECORD_ENV], "a", encoding="utf8") as f:
        f.write(f"{event} {task_id}\n")


@app.task(name=TASK_NAME, bind=True)
def wait_for_step(self, seconds: float) -> None:
    _record("start", self.request.id)
    time.sleep(seconds)
    _record("end", self.request.id)
