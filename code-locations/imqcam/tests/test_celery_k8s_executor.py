import pytest
from dagster import DagsterInvalidConfigError, in_process_executor, validate_run_config
from dagster_celery_k8s import celery_k8s_job_executor

from imqcam import defs

OPS_CONFIG = {"multiply_the_word": {"inputs": {"word": "abc"}, "config": {"factor": 2}}}


def _celery_job():
    return defs.get_job_def("pod_per_op_celery_job")


def test_pod_per_op_job_uses_celery_k8s_executor():
    executor_def = _celery_job().executor_def
    assert executor_def is celery_k8s_job_executor
    assert executor_def.name == "celery-k8s"


def test_example_job_runs_in_process():
    executor_def = defs.get_job_def("example_job").executor_def
    # Every op runs inside the run worker's own process: no step pods, no subprocesses.
    assert executor_def is in_process_executor


def test_celery_k8s_run_config_validates():
    run_config = {
        "ops": OPS_CONFIG,
        "execution": {
            "config": {
                "job_namespace": "dagster",
                "job_wait_timeout": 7200.0,
                "env_config_maps": ["dagster-pipeline-env"],
                "per_step_k8s_config": {
                    "count_letters": {
                        "container_config": {"resources": {"limits": {"cpu": "500m"}}},
                        "job_spec_config": {"ttl_seconds_after_finished": 600},
                    }
                },
            }
        },
    }
    validated = validate_run_config(_celery_job(), run_config)
    # Dagster normalizes the `execution: {config: ...}` block under the executor's name.
    executor_config = validated["execution"]["celery-k8s"]
    assert executor_config["job_namespace"] == "dagster"
    assert executor_config["per_step_k8s_config"]["count_letters"]["job_spec_config"] == {
        "ttl_seconds_after_finished": 600
    }


@pytest.mark.parametrize(
    "execution_config",
    [
        {"job_namespace": 42},
        {"not_a_celery_k8s_field": True},
        {"per_step_k8s_config": {"count_letters": {"podSpecConfig": {}}}},
    ],
)
def test_invalid_celery_k8s_run_config_is_rejected(execution_config):
    with pytest.raises(DagsterInvalidConfigError):
        validate_run_config(
            _celery_job(), {"ops": OPS_CONFIG, "execution": {"config": execution_config}}
        )


def test_invalid_op_config_is_rejected():
    bad_ops = {"multiply_the_word": {"inputs": {"word": "abc"}, "config": {"factor": "two"}}}
    with pytest.raises(DagsterInvalidConfigError):
        validate_run_config(_celery_job(), {"ops": bad_ops})
