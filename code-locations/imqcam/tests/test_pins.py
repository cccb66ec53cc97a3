import subprocess
import sys

import pytest


def _pins(code_location_dir, *args):
    return subprocess.run(
        [sys.executable, str(code_location_dir / "pins.py"), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_pins_for_1_13_27(code_location_dir):
    proc = _pins(code_location_dir, "1.13.27")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "dagster==1.13.27",
        "dagster-k8s==0.29.27",
        "dagster-celery-k8s==0.29.27",
        "dagster-postgres==0.29.27",
    ]


def test_pins_maps_minor_plus_16(code_location_dir):
    proc = _pins(code_location_dir, "1.9.0")
    assert proc.returncode == 0, proc.stderr
    assert "dagster-k8s==0.25.0" in proc.stdout.splitlines()


@pytest.mark.parametrize(
    "version",
    ["", "1.13", "1.13.27.1", "v1.13.27", "1.13.27rc1", "2.0.0", "0.29.27", "1.x.27", " 1.13.27", "1.13.27\n"],
)
def test_pins_rejects_bad_versions(code_location_dir, version):
    proc = _pins(code_location_dir, version)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "pins.py" in proc.stderr and repr(version) in proc.stderr


def test_pins_requires_exactly_one_argument(code_location_dir):
    assert _pins(code_location_dir).returncode == 2
    assert _pins(code_location_dir, "1.13.27", "1.13.28").returncode == 2
