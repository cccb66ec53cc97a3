"""The lock is what the image installs and what these tests run on, for the stack's Dagster."""

import importlib.metadata
import os
import re
import sys

from packaging.utils import canonicalize_name

from pins import requirements as dagster_pins

# Installed in every virtualenv by `python -m venv`, not by the lock.
VENV_SEEDS = {"pip", "setuptools"}


def test_every_locked_package_has_an_exact_version_and_hashes(code_location_dir):
    text = (code_location_dir / "requirements.lock").read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2].strip())
    assert len(entries) > 50
    for entry in entries:
        assert re.match(r"^[A-Za-z0-9._-]+==[^ ]+ \\\n", entry), entry.splitlines()[0]
        assert "--hash=sha256:" in entry, f"no hash for {entry.splitlines()[0]}"


def test_lock_is_for_the_stacks_dagster_version(lock):
    stack_version = os.environ.get("DAGSTER_VERSION")
    assert stack_version, "run through `npm run test:code-location`, which passes the stack's dagsterVersion"
    for pin in dagster_pins(stack_version):
        name, version = pin.split("==")
        assert lock.get(name) == version, (
            f"requirements.lock has {name} {lock.get(name)}, the stack needs {version}: run `npm run lock`"
        )


def test_tests_run_on_the_images_python_minor_version(code_location_dir):
    base = re.search(r"^FROM python:(\d+)\.(\d+)\.", (code_location_dir / "Dockerfile").read_text(), re.M)
    assert sys.version_info[:2] == (int(base.group(1)), int(base.group(2)))


def test_this_environment_is_exactly_the_lock(lock, test_lock):
    installed = {
        canonicalize_name(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()
    }
    for name in VENV_SEEDS:
        installed.pop(name, None)
    wanted = {**lock, **test_lock}
    assert installed == wanted


def test_the_test_lock_agrees_with_the_image_lock(lock, test_lock):
    # Resolved against requirements.lock: what both need (pytest needs packaging) has the image's version.
    shared = lock.keys() & test_lock.keys()
    assert "packaging" in shared
    assert {name: test_lock[name] for name in shared} == {name: lock[name] for name in shared}
