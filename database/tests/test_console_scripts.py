"""Every virtualenv the tests build (scripts/python-tools.sh ensure_venv) runs its own console
scripts: they name their interpreter by absolute path, which a venv built elsewhere and moved
would not have (`bin/dagster-daemon: cannot execute: required file not found`)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ENVIRONMENTS = ["IMQCAM_DAGSTER_PYTHON", "IMQCAM_MANUAL_DAGSTER_PYTHON", "IMQCAM_EARLIER_DAGSTER_PYTHON"]


@pytest.mark.parametrize("variable", ENVIRONMENTS)
def test_every_console_script_of_the_environment_names_its_own_interpreter(variable):
    python = Path(os.environ[variable])
    scripts = [p for p in python.parent.iterdir() if p.is_file() and p.read_bytes()[:2] == b"#!"]
    assert scripts, python.parent
    for script in scripts:
        lines = script.read_text(errors="replace").splitlines()
        interpreter = lines[0][2:].split()[0]
        if interpreter == "/bin/sh":  # pip's form for a long interpreter path: exec "<python>" "$0"
            interpreter = lines[1].split('"')[1]
        assert Path(interpreter).is_file() and Path(interpreter).parent == python.parent, (script, interpreter)
    done = subprocess.run([str(python.parent / "dagster"), "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and "dagster" in done.stdout.lower(), done.stderr
