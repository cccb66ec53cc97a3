"""imqcam example code location, served with `dagster api grpc --module-name imqcam --attribute defs`."""

from dagster import Definitions

from imqcam.jobs import example_job, pod_per_op_celery_job
from imqcam.resources import build_resources

defs = Definitions(
    jobs=[example_job, pod_per_op_celery_job],
    resources=build_resources(),
)
