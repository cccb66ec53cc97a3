#!/usr/bin/env bash
# Stands in for docker.io/library/postgres:17.6 (components/images.ts POSTGRESQL_SERVER): Debian
# trixie's PostgreSQL 17 with the official image's entry point contract (entrypoint.sh, installed as
# /usr/local/bin/docker-entrypoint.sh), its postgres user (uid/gid 999) and its socket folder
# /var/run/postgresql. The server, initdb, pg_ctl and the clients (psql, pg_dump, pg_restore,
# pg_isready) come from /usr/lib/postgresql/17/bin, first on the image's PATH (config.json).
# No Debian cluster is created and no server is started while building: a policy-rc.d refuses
# every service start and createcluster.conf says create_main_cluster = false before the server
# package is installed.
# usage: rootfs.sh DIR [DEB_CACHE]   (DIR empty or absent; DEB_CACHE keeps the .debs for next time)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="${1:?usage: rootfs.sh DIR [DEB_CACHE]}"
cache="${2:-}"
suite=trixie
mirror=http://deb.debian.org/debian
pg_major=17

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

# Clients first (they start nothing): with them most of the .debs come through debootstrap's cache.
debootstrap --variant=minbase ${cache:+--cache-dir="$cache"} \
    --include="passwd,postgresql-client-$pg_major,tzdata" \
    "$suite" "$dir" "$mirror" >/dev/null

in_root() { chroot "$dir" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }

# The official image's postgres user and group, before the package makes its own.
in_root groupadd --system --gid 999 postgres
in_root useradd --system --uid 999 --gid postgres --home-dir /var/lib/postgresql --shell /bin/bash postgres
install -d -o 999 -g 999 -m 755 "$dir/var/lib/postgresql"

# Nothing starts while the packages install; no Debian cluster (main) is created.
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
apt_install postgresql-common
sed -ri 's/^#?\s*(create_main_cluster)\s*=.*$/\1 = false/' "$dir/etc/postgresql-common/createcluster.conf"
grep -qx 'create_main_cluster = false' "$dir/etc/postgresql-common/createcluster.conf"
apt_install "postgresql-$pg_major"
if [ -n "$(ls -A "$dir/etc/postgresql" 2>/dev/null)" ]; then
    echo "rootfs.sh: a Debian cluster was created in $dir/etc/postgresql" >&2
    exit 1
fi

# As the official image: initdb writes listen_addresses = '*' into every new postgresql.conf.
sample="$dir/usr/share/postgresql/$pg_major/postgresql.conf.sample"
sed -ri "s/^#?\s*(listen_addresses)\s*=\s*\S+/\1 = '*'/" "$sample"
grep -q "^listen_addresses = '\*'" "$sample"

# The socket folder, and the default PGDATA (a volume is mounted over it in the pods).
mkdir -p "$dir/var/run/postgresql" "$dir/var/lib/postgresql/data"
chown 999:999 "$dir/var/run/postgresql" "$dir/var/lib/postgresql/data"
chmod 3777 "$dir/var/run/postgresql"
chmod 1777 "$dir/var/lib/postgresql/data"

# No JIT, 150 MB less: without llvmjit.so the server silently runs every query uncompiled (jit is
# only for large analytic queries); LLVM and its solver go with it.
rm -rf "$dir/usr/lib/postgresql/$pg_major/lib/llvmjit"* "$dir/usr/lib/postgresql/$pg_major/lib/bitcode"
if ! out="$(in_root dpkg --purge --force-depends \
    $(in_root dpkg-query -W -f '${Package}\n' 'libllvm*' 'libz3-*') 2>&1)"; then
    echo "$out" >&2
    exit 1
fi
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
# ssl-cert's snake-oil pair, made for the build host's name (the server's ssl is off).
rm -f "$dir/etc/ssl/private/ssl-cert-snakeoil.key" "$dir/etc/ssl/certs/ssl-cert-snakeoil.pem"
find "$dir/etc/ssl/certs" -lname '*ssl-cert-snakeoil.pem' -delete
rm -f "$dir/etc/hostname" "$dir/etc/resolv.conf"
echo localhost >"$dir/etc/hostname"
: >"$dir/etc/resolv.conf"
if ! mountpoint -q "$dir/dev"; then
    find "$dir/dev" -mindepth 1 -delete
fi
