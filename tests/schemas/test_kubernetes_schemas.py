"""Every Kubernetes object the program creates, checked against the Kubernetes OpenAPI schemas.

Strict: a field the API does not know fails, as the API server's strict field validation would
refuse it. The objects are what the program sends under mocks for each stack
(scripts/objects.ts, printed by scripts/test-code-location.sh into IMQCAM_KUBERNETES_OBJECTS).
"""

import json
import os
from pathlib import Path

import kubernetes_validate
import pytest

# The newest Kubernetes release whose schemas the pinned kubernetes-validate carries.
KUBERNETES_VERSION = kubernetes_validate.latest_version()


def _objects() -> list[tuple[str, dict]]:
    folder = os.environ.get("IMQCAM_KUBERNETES_OBJECTS")
    if not folder:
        raise RuntimeError("IMQCAM_KUBERNETES_OBJECTS is not set: run through `npm run test:code-location`")
    found = []
    for path in sorted(Path(folder).glob("*.json")):
        for obj in json.loads(path.read_text()):
            name = obj["metadata"].get("name") or obj["metadata"].get("generateName") or "(auto-named)"
            found.append((f"{path.stem}: {obj['kind']} {name}", obj))
    return found


OBJECTS = _objects()


def test_every_kind_the_program_creates_is_checked():
    kinds = {obj["kind"] for _, obj in OBJECTS}
    assert kinds >= {"Namespace", "PersistentVolume", "PersistentVolumeClaim", "Secret", "Service",
                     "StatefulSet", "ConfigMap", "Job", "CronJob"}


@pytest.mark.parametrize("obj", [o for _, o in OBJECTS], ids=[i for i, _ in OBJECTS])
def test_object_matches_the_kubernetes_schema(obj):
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        # The validator's own message carries the whole schema; the path and reason are enough.
        pytest.fail(f"{'.'.join(map(str, exc.path))}: {exc.message}", pytrace=False)


def test_strict_validation_refuses_an_unknown_field():
    name, obj = OBJECTS[0]
    wrong = {**obj, "metadata": {**obj["metadata"], "labelz": {"a": "b"}}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong, KUBERNETES_VERSION, strict=True)
