"""The copy of the program's migration Job (pure)."""
import kubernetes_validate
import pytest

from takeover.migration import copy_job
from takeover.tests.fake import load


def test_copy_drops_what_the_api_server_owns_and_keeps_the_pod():
    source = load("job-dagster-migrate-1-13-27.json")
    job = copy_job(source, "dagster-takeover-migrate-20261120-101500")
    meta, spec = job["metadata"], job["spec"]
    assert meta["name"] == "dagster-takeover-migrate-20261120-101500" and meta["namespace"] == "imqcam-dagster"
    for field in ("uid", "resourceVersion", "creationTimestamp", "generation"):
        assert field not in meta
    assert "status" not in job and "selector" not in spec and "manualSelector" not in spec
    for labels in (meta["labels"], spec["template"]["metadata"]["labels"]):
        assert not [k for k in labels if "controller-uid" in k or k.endswith("job-name")]
        assert labels["app.kubernetes.io/name"] == "dagster-migrate"
    assert not [k for k in meta["annotations"] if k.startswith(("batch.kubernetes.io/", "pulumi.com/"))]
    assert meta["annotations"]["imqcam-dagster/copy-of"] == "dagster-migrate-1-13-27"
    assert spec["template"]["spec"] == source["spec"]["template"]["spec"]
    assert spec["backoffLimit"] == 0
    assert source["spec"]["selector"]  # the source is untouched
    assert "controller-uid" in source["spec"]["template"]["metadata"]["labels"]


def test_a_job_name_is_a_valid_kubernetes_name():
    job = copy_job(load("job-dagster-migrate-1-13-27.json"), "dagster-takeover-migrate-20261120-101500")
    name = job["metadata"]["name"]
    assert len(name) <= 63 and name == name.lower() and ":" not in name


def test_the_copy_passes_strict_kubernetes_schema_validation():
    job = copy_job(load("job-dagster-migrate-1-13-27.json"), "dagster-takeover-migrate-20261120-101500")
    kubernetes_validate.validate(job, kubernetes_validate.latest_version(), strict=True)
    wrong = {**job, "spec": {**job["spec"], "selektor": {}}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong, kubernetes_validate.latest_version(), strict=True)
