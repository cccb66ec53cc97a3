"""The same two-op graph, run in-process and with one Kubernetes pod per op."""

from dagster import graph, in_process_executor
from dagster_celery_k8s import celery_k8s_job_executor

from imqcam.k8s import K8S_JOB_TAGS
from imqcam.ops import count_letters, multiply_the_word


@graph
def word_graph():
    count_letters(multiply_the_word())


# Every op runs in the run worker's own process: no step pods, no subprocesses.
example_job = word_graph.to_job(name="example_job", executor_def=in_process_executor, tags=K8S_JOB_TAGS)

# Each op becomes its own Kubernetes Job, dispatched through Celery. This must be the
# dagster_celery_k8s executor: dagster_celery.celery_executor does not work with the
# CeleryK8sRunLauncher (dagster issue 22027).
pod_per_op_celery_job = word_graph.to_job(
    name="pod_per_op_celery_job",
    executor_def=celery_k8s_job_executor,
    tags=K8S_JOB_TAGS,
)
