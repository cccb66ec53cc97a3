"""Static checks of the image recipe (no Docker engine needed)."""

import re


def test_dockerfile_pins_base_and_takes_version_from_outside(code_location_dir):
    text = (code_location_dir / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11\.13-slim-bookworm$", text, re.M)
    assert re.search(r"^ARG DAGSTER_VERSION$", text, re.M), "no default version in the Dockerfile"
    instructions = "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#") and "e.g." not in line
    )
    assert not re.search(r"\b1\.\d+\.\d+\b", instructions.replace("3.11.13", "")), (
        "Dagster version must not be hard-coded"
    )
    # Dependencies are installed before the package is copied, so code edits reuse that layer.
    assert text.index('pins.py "$DAGSTER_VERSION"') < text.index("COPY imqcam/")
