"""Static checks of the image recipe, and its lock check run with a real shell (no Docker engine needed)."""

import re
import subprocess


def _dockerfile(code_location_dir) -> str:
    return (code_location_dir / "Dockerfile").read_text()


def test_dockerfile_pins_base_and_takes_version_from_outside(code_location_dir):
    text = _dockerfile(code_location_dir)
    assert re.search(r"^FROM python:3\.11\.13-slim-bookworm$", text, re.M)
    assert re.search(r"^ARG DAGSTER_VERSION$", text, re.M), "no default version in the Dockerfile"
    instructions = "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#") and "e.g." not in line
    )
    assert not re.search(r"\b1\.\d+\.\d+\b", instructions.replace("3.11.13", "")), (
        "Dagster version must not be hard-coded"
    )


def test_dockerfile_installs_exactly_the_lock(code_location_dir):
    text = _dockerfile(code_location_dir)
    assert "COPY requirements.lock /opt/dagster/requirements.lock" in text
    install = re.search(r"pip install ([^\n]*\\\n)*[^\n]*", text).group(0)
    # Hashes required and no resolution: nothing but the lock's packages, at the lock's versions.
    for flag in ("--require-hashes", "--no-deps", "-r /opt/dagster/requirements.lock"):
        assert flag in install
    assert "&& pip check" in text
    # Dependencies are installed before the package is copied, so code edits reuse that layer.
    assert text.index("requirements.lock") < text.index("COPY imqcam/")


def _lock_check(code_location_dir) -> str:
    """The Dockerfile's own test that the lock is for DAGSTER_VERSION, as a shell command."""
    match = re.search(r"if ! (awk [^;]*requirements\.lock);", _dockerfile(code_location_dir))
    assert match, "the Dockerfile no longer checks the lock against DAGSTER_VERSION"
    return match.group(1).replace("/opt/dagster/requirements.lock", str(code_location_dir / "requirements.lock"))


def test_image_build_refuses_a_lock_for_another_dagster(code_location_dir, lock):
    check = _lock_check(code_location_dir)

    def build_check(version: str) -> int:
        return subprocess.run(["sh", "-c", check], env={"DAGSTER_VERSION": version}, check=False).returncode

    assert build_check(lock["dagster"]) == 0
    major, minor, patch = lock["dagster"].split(".")
    assert build_check(f"{major}.{minor}.{int(patch) + 1}") != 0
    assert build_check(f"{major}.{minor}") != 0  # a prefix of the locked version is not it
