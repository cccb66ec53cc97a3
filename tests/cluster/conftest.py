import sys
from pathlib import Path

import pytest

# The project's test harnesses (the control plane), and this folder's helpers.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "harness"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import kube_control_plane  # noqa: E402


@pytest.fixture(scope="module")
def plane():
    """A control plane of the module's own: modules leave different objects behind."""
    with kube_control_plane.running() as p:
        yield p
