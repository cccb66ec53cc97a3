"""IMQCAM_K8S_JOB_CONFIG -> dagster-k8s/config tags -> the V1Job dagster_k8s would launch."""

import json
from pathlib import Path

import pytest
from dagster_k8s import DagsterK8sJobConfig
from dagster_k8s.job import (
    DEFAULT_K8S_JOB_TTL_SECONDS_AFTER_FINISHED,
    UserDefinedDagsterK8sConfig,
    construct_dagster_k8s_job,
    get_user_defined_k8s_config,
)

from imqcam.k8s import (
    DAGSTER_K8S_CONFIG_TAG,
    K8S_JOB_CONFIG_ENV_VAR,
    K8S_STEP_CONFIG_ENV_VAR,
    k8s_job_tags,
    k8s_op_tags,
)

# The exact values the deployment sets: the TypeScript side tests its builder against this file.
EXAMPLES = json.loads((Path(__file__).parent / "k8s_job_config_examples.json").read_text())
SINGLE_NODE = EXAMPLES["single_node"]["config"]
MULTI_NODE = EXAMPLES["multi_node"]["config"]
UNPINNED = EXAMPLES["unpinned"]["config"]
STEP_RESOURCES = EXAMPLES["step_resources"]["config"]

# Runs in a fresh interpreter so imqcam.k8s.K8S_JOB_TAGS is computed from the given env, exactly
# as in the code server / run pod / step pod. Reports the normalized (string) tags Dagster holds
# for each job, each op node, and each execution-plan step of both jobs.
DUMP_TAGS = """
import json
from dagster._core.execution.api import create_execution_plan
from imqcam import defs

run_config = {"ops": {"multiply_the_word": {"inputs": {"word": "ab"}, "config": {"factor": 2}}}}
out = {}
for name in ("example_job", "pod_per_op_celery_job"):
    job = defs.get_job_def(name)
    plan = create_execution_plan(job, run_config=run_config)
    out[name] = {
        "job": dict(job.tags),
        "nodes": {node.name: dict(node.tags) for node in job.graph.nodes},
        "steps": {step.key: dict(step.tags) for step in plan.steps},
    }
print(json.dumps(out))
"""


def _dump_tags(run_python, env):
    proc = run_python(DUMP_TAGS, env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _all_tag_sets(dumped):
    """(label, tags) for both jobs, every op of both jobs, and every step Job's source tags."""
    for job_name, info in dumped.items():
        yield f"{job_name} (job)", info["job"]
        assert set(info["nodes"]) == {"multiply_the_word", "count_letters"}
        for node_name, tags in info["nodes"].items():
            yield f"{job_name}.{node_name} (op)", tags
        assert set(info["steps"]) == {"multiply_the_word", "count_letters"}
        for step_key, tags in info["steps"].items():
            yield f"{job_name}.{step_key} (step)", tags


def _v1_job(tags):
    """Build the Job dagster_k8s would launch for these tags (same path as run/step launchers)."""
    user_defined = get_user_defined_k8s_config(tags)
    assert isinstance(user_defined, UserDefinedDagsterK8sConfig)
    job_config = DagsterK8sJobConfig(
        job_image="imqcam:test",
        dagster_home="/opt/dagster/dagster_home",
        instance_config_map="dagster-instance",
    )
    return construct_dagster_k8s_job(
        job_config=job_config,
        args=["dagster", "api", "execute_step"],
        job_name="dagster-step-test",
        user_defined_k8s_config=user_defined,
    )


@pytest.mark.parametrize("k8s_config", [SINGLE_NODE, MULTI_NODE], ids=["single-node", "multi-node"])
def test_every_job_and_op_carries_the_configured_tag(run_python, k8s_config):
    dumped = _dump_tags(run_python, {K8S_JOB_CONFIG_ENV_VAR: json.dumps(k8s_config)})
    labels = []
    for label, tags in _all_tag_sets(dumped):
        labels.append(label)
        assert DAGSTER_K8S_CONFIG_TAG in tags, label
        assert json.loads(tags[DAGSTER_K8S_CONFIG_TAG]) == k8s_config, label

        v1_job = _v1_job(tags)
        assert v1_job.spec.ttl_seconds_after_finished == 3600, label
        pod_spec = v1_job.spec.template.spec
        if k8s_config is SINGLE_NODE:
            assert pod_spec.node_selector == {"kubernetes.io/hostname": "kde04.idies.jhu.edu"}, label
        else:
            assert pod_spec.node_selector is None, label
            required = pod_spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution
            expression = required.node_selector_terms[0].match_expressions[0]
            assert (expression.key, expression.operator, expression.values) == (
                "kubernetes.io/hostname",
                "In",
                ["a", "b"],
            ), label
    assert len(labels) == 2 * (1 + 2 + 2)


def test_unpinned_stack_still_cleans_up_finished_jobs(run_python):
    dumped = _dump_tags(run_python, {K8S_JOB_CONFIG_ENV_VAR: json.dumps(UNPINNED)})
    for label, tags in _all_tag_sets(dumped):
        v1_job = _v1_job(tags)
        assert v1_job.spec.ttl_seconds_after_finished == 900, label
        assert v1_job.spec.template.spec.node_selector is None, label
        assert v1_job.spec.template.spec.affinity is None, label


@pytest.mark.parametrize("value", [None, "", "   "], ids=["unset", "empty", "blank"])
def test_without_config_no_tag_and_dagster_defaults(run_python, value):
    env = {} if value is None else {K8S_JOB_CONFIG_ENV_VAR: value}
    dumped = _dump_tags(run_python, env)
    for label, tags in _all_tag_sets(dumped):
        assert DAGSTER_K8S_CONFIG_TAG not in tags, label
        v1_job = _v1_job(tags)
        assert v1_job.spec.ttl_seconds_after_finished == DEFAULT_K8S_JOB_TTL_SECONDS_AFTER_FINISHED
        assert v1_job.spec.template.spec.node_selector is None
        assert v1_job.spec.template.spec.affinity is None


def test_malformed_value_stops_the_code_location_from_loading(run_python):
    proc = run_python("import imqcam", {K8S_JOB_CONFIG_ENV_VAR: "{not json"})
    assert proc.returncode != 0
    assert "ValueError" in proc.stderr
    assert K8S_JOB_CONFIG_ENV_VAR in proc.stderr


@pytest.mark.parametrize(
    "value, message",
    [
        ("{not json", "not valid JSON"),
        ('["kde04"]', "got JSON list"),
        ('"kde04"', "got JSON str"),
        ("null", "got JSON NoneType"),
        # dagster-k8s/config top-level keys are snake_case; camelCase is rejected by dagster_k8s.
        ('{"podSpecConfig": {"nodeSelector": {"a": "b"}}}', "podSpecConfig"),
    ],
)
def test_k8s_job_tags_rejects_bad_values_naming_the_variable(value, message):
    with pytest.raises(ValueError, match=K8S_JOB_CONFIG_ENV_VAR) as excinfo:
        k8s_job_tags({K8S_JOB_CONFIG_ENV_VAR: value})
    assert message in str(excinfo.value)


def test_k8s_job_tags_parses_and_defaults():
    assert k8s_job_tags({}) == {}
    assert k8s_job_tags({K8S_JOB_CONFIG_ENV_VAR: ""}) == {}
    assert k8s_job_tags({K8S_JOB_CONFIG_ENV_VAR: json.dumps(SINGLE_NODE)}) == {
        DAGSTER_K8S_CONFIG_TAG: SINGLE_NODE
    }


def test_run_and_step_jobs_get_their_own_config_and_resources(run_python):
    # The run worker Job from the job's tags, each step Job from its op's tags.
    dumped = _dump_tags(run_python, {
        K8S_JOB_CONFIG_ENV_VAR: json.dumps(SINGLE_NODE),
        K8S_STEP_CONFIG_ENV_VAR: json.dumps(STEP_RESOURCES),
    })
    for label, tags in _all_tag_sets(dumped):
        expected = SINGLE_NODE if label.endswith("(job)") else STEP_RESOURCES
        assert json.loads(tags[DAGSTER_K8S_CONFIG_TAG]) == expected, label
        container = _v1_job(tags).spec.template.spec.containers[0]
        if label.endswith("(job)"):
            assert container.resources is None or not container.resources.limits, label
        else:
            assert container.resources.requests == {"cpu": "500m", "memory": "1Gi"}, label
            assert container.resources.limits == {"cpu": "2", "memory": "4Gi"}, label


def test_op_tags_fall_back_to_the_job_config_and_name_their_variable():
    assert k8s_op_tags({K8S_JOB_CONFIG_ENV_VAR: json.dumps(SINGLE_NODE)}) == {DAGSTER_K8S_CONFIG_TAG: SINGLE_NODE}
    with pytest.raises(ValueError, match=K8S_STEP_CONFIG_ENV_VAR):
        k8s_op_tags({K8S_STEP_CONFIG_ENV_VAR: "[1]"})
