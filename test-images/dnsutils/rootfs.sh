#!/usr/bin/env bash
# Stands in for the image the chart's wait-for-user-code init containers run (values
# busybox.image): Debian's shell and coreutils with BIND's nslookup (bind9-dnsutils), which
# exits 0 once any search domain answers, where busybox 1.29 and later exit 1 on an NXDOMAIN.
# usage: rootfs.sh DIR [DEB_CACHE]
set -euo pipefail
dir="$1"
debootstrap --variant=minbase ${2:+--cache-dir="$2"} --include=bind9-dnsutils \
  bookworm "$dir" http://deb.debian.org/debian >/dev/null
rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/archives/*.deb
