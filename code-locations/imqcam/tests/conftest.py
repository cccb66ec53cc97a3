import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

CODE_LOCATION_DIR = Path(__file__).resolve().parent.parent


# The package reads these at import time; start every session from the defaults regardless of
# the developer's shell. Tests that need them set them explicitly.
for _name in ("IMQCAM_K8S_JOB_CONFIG", "IMQCAM_IO_MOUNT_PATH"):
    os.environ.pop(_name, None)


@pytest.fixture
def code_location_dir() -> Path:
    return CODE_LOCATION_DIR


@pytest.fixture
def run_python():
    """Run a Python snippet in a fresh interpreter with imqcam importable and a chosen env."""

    def _run(code: str, extra_env: dict | None = None) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IMQCAM_")}
        env["PYTHONPATH"] = os.pathsep.join(
            [str(CODE_LOCATION_DIR)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
        )
        env.update(extra_env or {})
        return subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    return _run


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server on loopback for the whole session (tests/harness/postgres_server.py)."""
    from tests.harness import postgres_server as pg

    with pg.running() as server:
        yield server


def _read_lock(path: Path) -> dict[str, str]:
    """`name==version` of every entry of a uv/pip-tools lock, names canonical."""
    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9._-]+)==([^ ;\\]+)", line)
        if match:
            pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return pins


@pytest.fixture(scope="session")
def lock() -> dict[str, str]:
    return _read_lock(CODE_LOCATION_DIR / "requirements.lock")


@pytest.fixture(scope="session")
def test_lock() -> dict[str, str]:
    return _read_lock(CODE_LOCATION_DIR / "requirements-test.lock")
