#!/usr/bin/env bash
# Stands in for docker.io/library/python:3.11.13-slim-bookworm, the user-code image's FROM and the
# base of the Dagster image's stand-in: Debian bookworm's Python 3.11 with pip, where `pip install`
# installs into the system as in the official image (no externally-managed marker).
# usage: rootfs.sh DIR [DEB_CACHE]
set -euo pipefail
dir="$1"
debootstrap --variant=minbase ${2:+--cache-dir="$2"} \
  --include=python3,python3-pip,python-is-python3,ca-certificates,tzdata \
  bookworm "$dir" http://deb.debian.org/debian >/dev/null
rm -f "$dir"/usr/lib/python3*/EXTERNALLY-MANAGED
ln -sf pip3 "$dir/usr/bin/pip" 2>/dev/null || true
rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/archives/*.deb
