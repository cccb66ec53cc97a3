"""Kubernetes placement, cleanup and resources for the Jobs Dagster launches from this code location.

The deployment sets, on the code server and on run/step pods, two JSON objects in the
``dagster-k8s/config`` tag format (snake_case keys), e.g.::

    {"container_config": {"resources": {"requests": {"cpu": "500m", "memory": "1Gi"},
                                         "limits": {"cpu": "2", "memory": "4Gi"}}},
     "pod_spec_config": {"node_selector": {"kubernetes.io/hostname": "node-a"}},
     "job_spec_config": {"ttl_seconds_after_finished": 3600}}

IMQCAM_K8S_JOB_CONFIG for run worker Jobs, IMQCAM_K8S_STEP_CONFIG for step Jobs (the same, but
for the resources). A real code location needs exactly these lines to honour them:

    from imqcam.k8s import K8S_JOB_TAGS, K8S_OP_TAGS
    @job(tags=K8S_JOB_TAGS, ...)   # on EVERY job
    @op(tags=K8S_OP_TAGS, ...)     # on EVERY op

Jobs need it because the run worker Job is built from job tags; ops need it because each
celery-k8s / k8s step Job is built from that op's tags only (job tags are not propagated to
step Jobs, dagster issue 23298).
"""

import json
import os
from collections.abc import Mapping
from typing import Any, Optional

from dagster import DagsterInvalidConfigError
from dagster_k8s.job import get_user_defined_k8s_config

K8S_JOB_CONFIG_ENV_VAR = "IMQCAM_K8S_JOB_CONFIG"
K8S_STEP_CONFIG_ENV_VAR = "IMQCAM_K8S_STEP_CONFIG"
DAGSTER_K8S_CONFIG_TAG = "dagster-k8s/config"


def k8s_job_tags(environ: Optional[Mapping[str, str]] = None) -> dict[str, Any]:
    """Return ``{"dagster-k8s/config": <parsed IMQCAM_K8S_JOB_CONFIG>}``: the run worker Job's.

    Returns ``{}`` when the variable is unset or blank, so Dagster's defaults apply.
    Raises ValueError naming the variable when it is not a JSON object.
    """
    return _k8s_tags(K8S_JOB_CONFIG_ENV_VAR, os.environ if environ is None else environ)


def k8s_op_tags(environ: Optional[Mapping[str, str]] = None) -> dict[str, Any]:
    """The step Jobs' tags, from IMQCAM_K8S_STEP_CONFIG; where a deployment sets only
    IMQCAM_K8S_JOB_CONFIG, steps get that one."""
    env = os.environ if environ is None else environ
    if env.get(K8S_STEP_CONFIG_ENV_VAR, "").strip():
        return _k8s_tags(K8S_STEP_CONFIG_ENV_VAR, env)
    return _k8s_tags(K8S_JOB_CONFIG_ENV_VAR, env)


def _k8s_tags(variable: str, env: Mapping[str, str]) -> dict[str, Any]:
    raw = env.get(variable, "").strip()
    if not raw:
        return {}
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{variable} must be a JSON object in the dagster-k8s/config tag "
            f"format, but it is not valid JSON: {exc}"
        ) from exc
    if not isinstance(config, dict):
        raise ValueError(
            f"{variable} must be a JSON object in the dagster-k8s/config tag "
            f"format, got JSON {type(config).__name__}: {raw[:200]}"
        )
    # Validate with dagster_k8s' own parser now, so a bad value fails when the code location
    # loads instead of when a run or step Job is launched. Top-level keys must be snake_case.
    try:
        get_user_defined_k8s_config({DAGSTER_K8S_CONFIG_TAG: json.dumps(config)})
    except DagsterInvalidConfigError as exc:
        raise ValueError(
            f"{variable} is not valid dagster-k8s/config: {exc}"
        ) from exc
    return {DAGSTER_K8S_CONFIG_TAG: config}


# Evaluated once at import: the code server and the run/step pods all import this module with
# the same environment, so every process computes identical tags.
K8S_JOB_TAGS: dict[str, Any] = k8s_job_tags()
K8S_OP_TAGS: dict[str, Any] = k8s_op_tags()
