import pytest

from tests.harness import real_node
from tests.node import stack_on_node


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
