import sys
from pathlib import Path

import pytest

# The project's test harnesses (the control plane, the real node), the API-server tests' helpers
# (the program's objects), the code location's dagster.yaml builder, and this folder's.
here = Path(__file__).resolve().parent
sys.path[:0] = [str(here.parent / "harness"), str(here.parent / "cluster"),
                str(here.parents[1] / "code-locations" / "imqcam" / "tests"), str(here)]

import real_node  # noqa: E402
import stack_on_node  # noqa: E402


@pytest.fixture(scope="session")
def node():
    """One real node for the whole session: starting one and importing the images takes a minute."""
    with real_node.running() as n:
        yield n


@pytest.fixture(scope="session")
def kde04(node):
    """The kde04 stack's own objects running on the node: database, broker, migration, CronJobs."""
    return stack_on_node.deploy(node)


# Rotating the generated passwords leaves the stack with passwords it did not start with: last.
LAST = "test_password_rotation.py"


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.path.name == LAST)
