#!/usr/bin/env bash
# Stands in for docker.io/library/rabbitmq:3.13.7 (src/components/parts/images.ts RABBITMQ): Debian
# bookworm's RabbitMQ 3.10.8 with the official image's entry point contract (entrypoint.sh,
# installed as /usr/local/bin/docker-entrypoint.sh), its rabbitmq user (uid/gid 999, home and
# Erlang cookie in /var/lib/rabbitmq) and its defaults (/etc/rabbitmq/conf.d/10-defaults.conf;
# logs to the console, config.json sets RABBITMQ_LOGS=-). Debian's /usr/sbin/rabbitmq-* wrappers
# run every command as rabbitmq, so the probes (rabbitmq-diagnostics as root) use the node's cookie.
# No server is started while building (debian.sh's policy-rc.d).
# usage: rootfs.sh DIR [DEB_CACHE]   (DIR empty or absent; DEB_CACHE keeps the .debs for next time)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="${1:?usage: rootfs.sh DIR [DEB_CACHE]}"
cache="${2:-}"
# shellcheck source=test-images/debian.sh
source "$here/../debian.sh"

bootstrap bookworm passwd,hostname
official_user rabbitmq /var/lib/rabbitmq /bin/sh
apt_install rabbitmq-server

# The official image's defaults; the data folder as the package left it, without a cookie (the
# node makes one on its first start, in the volume mounted there).
install -d -m 755 "$dir/etc/rabbitmq/conf.d"
cat >"$dir/etc/rabbitmq/conf.d/10-defaults.conf" <<'CONF'
## The official image's defaults (docker.io/library/rabbitmq).
## Allow access to the guest user from anywhere on the network (when it exists).
loopback_users.guest = false
## Send all logs to stdout.
log.console = true
CONF
rm -f "$dir/var/lib/rabbitmq/.erlang.cookie"
mkdir -p "$dir/var/lib/rabbitmq" "$dir/var/log/rabbitmq"
chown 999:999 "$dir/var/lib/rabbitmq" "$dir/var/log/rabbitmq"
entrypoint "$here/entrypoint.sh"
finish
