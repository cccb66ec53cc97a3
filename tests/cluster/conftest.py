import pytest

from tests.harness import kube_control_plane


@pytest.fixture(scope="module")
def plane():
    """A control plane of the module's own: modules leave different objects behind."""
    with kube_control_plane.running() as p:
        yield p
