#!/usr/bin/env python3
"""Print the pip requirement specifiers for a given Dagster core version.

Usage: python pins.py 1.13.27

Dagster library packages (dagster-k8s, dagster-celery-k8s, dagster-postgres)
are versioned 0.(MINOR+16).PATCH for core 1.MINOR.PATCH. `npm run lock`
(scripts/lock-code-location.sh) resolves requirements.lock under these pins,
and the tests check the lock against them, so the mapping lives in exactly one
place. Standard library only: it runs before anything is installed.
"""

import re
import sys

LIBRARIES = ("dagster-k8s", "dagster-celery-k8s", "dagster-postgres")
_VERSION_RE = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")


def requirements(core_version: str) -> list[str]:
    match = _VERSION_RE.fullmatch(core_version)
    if match is None:
        raise ValueError(
            f"invalid Dagster version {core_version!r}: expected MAJOR.MINOR.PATCH, e.g. 1.13.27"
        )
    major, minor, patch = (int(part) for part in match.groups())
    if major != 1:
        raise ValueError(
            f"unsupported Dagster version {core_version!r}: only major version 1 is supported"
        )
    library_version = f"0.{minor + 16}.{patch}"
    return [f"dagster=={core_version}"] + [f"{lib}=={library_version}" for lib in LIBRARIES]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python pins.py <dagster-version, e.g. 1.13.27>", file=sys.stderr)
        return 2
    try:
        lines = requirements(argv[1])
    except ValueError as exc:
        print(f"pins.py: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
