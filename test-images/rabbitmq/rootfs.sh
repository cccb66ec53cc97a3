#!/usr/bin/env bash
# Stands in for docker.io/library/rabbitmq:3.13.7 (components/images.ts RABBITMQ): Debian
# bookworm's RabbitMQ 3.10.8 with the official image's entry point contract (entrypoint.sh,
# installed as /usr/local/bin/docker-entrypoint.sh), its rabbitmq user (uid/gid 999, home and
# Erlang cookie in /var/lib/rabbitmq) and its defaults (/etc/rabbitmq/conf.d/10-defaults.conf;
# logs to the console, config.json sets RABBITMQ_LOGS=-). Debian's /usr/sbin/rabbitmq-* wrappers
# run every command as rabbitmq, so the probes (rabbitmq-diagnostics as root) use the node's cookie.
# No server is started while building: a policy-rc.d refuses every service start before the
# server package is installed.
# usage: rootfs.sh DIR [DEB_CACHE]   (DIR empty or absent; DEB_CACHE keeps the .debs for next time)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="${1:?usage: rootfs.sh DIR [DEB_CACHE]}"
cache="${2:-}"
suite=bookworm
mirror=http://deb.debian.org/debian

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
if [ -n "$(ls -A "$dir")" ]; then
    echo "rootfs.sh: $dir is not empty" >&2
    exit 1
fi
if [ -n "$cache" ]; then
    mkdir -p "$cache"
    cache="$(cd "$cache" && pwd)"
fi

debootstrap --variant=minbase ${cache:+--cache-dir="$cache"} --include=passwd,hostname \
    "$suite" "$dir" "$mirror" >/dev/null

in_root() { chroot "$dir" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }

# The official image's rabbitmq user and group, before the package makes its own.
in_root groupadd --system --gid 999 rabbitmq
in_root useradd --system --uid 999 --gid rabbitmq --home-dir /var/lib/rabbitmq --shell /bin/sh rabbitmq

# Nothing starts while the packages install (rabbitmq-server's init script, epmd).
printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
chmod 755 "$dir/usr/sbin/policy-rc.d"

# apt_install PACKAGE...: from the chroot's apt, reusing and filling DEB_CACHE.
apt_install() {
    local -a apt=(apt-get -y -q --no-install-recommends -o APT::Sandbox::User=root)
    local uri file rest
    if [ -n "$cache" ]; then
        in_root "${apt[@]}" --print-uris -qq install "$@" | while read -r uri file rest; do
            if [ -f "$cache/$file" ]; then cp "$cache/$file" "$dir/var/cache/apt/archives/$file"; fi
        done
    fi
    in_root "${apt[@]}" install "$@" >/dev/null
    if [ -n "$cache" ]; then
        find "$dir/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -exec cp -n -t "$cache" {} +
    fi
}

# debootstrap leaves the lists it used; fetch them only if it did not.
if ! compgen -G "$dir/var/lib/apt/lists/*_Packages" >/dev/null; then
    in_root apt-get -q update >/dev/null
fi
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
install -D -m 755 "$here/entrypoint.sh" "$dir/usr/local/bin/docker-entrypoint.sh"
ln -sf usr/local/bin/docker-entrypoint.sh "$dir/docker-entrypoint.sh"

# Small and neutral: no package lists, .debs, documentation, build host's names or device nodes
# (the runtime provides /dev, /etc/hosts, /etc/hostname and /etc/resolv.conf).
rm -f "$dir/usr/sbin/policy-rc.d"
in_root apt-get clean
rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/debconf/*-old \
    "$dir"/var/log/apt/* "$dir"/var/log/*.log "$dir"/usr/share/doc/* "$dir"/usr/share/man/* \
    "$dir"/usr/share/info/*
find "$dir/usr/share/locale" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
rm -f "$dir/etc/hostname" "$dir/etc/resolv.conf"
echo localhost >"$dir/etc/hostname"
: >"$dir/etc/resolv.conf"
if ! mountpoint -q "$dir/dev"; then
    find "$dir/dev" -mindepth 1 -delete
fi
