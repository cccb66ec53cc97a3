#!/usr/bin/env bash
# Stands in for docker.io/library/postgres:17.6 (src/components/parts/images.ts POSTGRESQL_SERVER): Debian
# trixie's PostgreSQL 17 with the official image's entry point contract (entrypoint.sh, installed as
# /usr/local/bin/docker-entrypoint.sh), its postgres user (uid/gid 999) and its socket folder
# /var/run/postgresql, and nss_wrapper for a user /etc/passwd lacks. The server, initdb, pg_ctl and
# the clients (psql, pg_dump, pg_restore, pg_isready) come from /usr/lib/postgresql/17/bin, first
# on the image's PATH (config.json).
# No Debian cluster is created and no server is started while building (debian.sh's policy-rc.d;
# createcluster.conf says create_main_cluster = false before the server package is installed).
# usage: rootfs.sh DIR [DEB_CACHE]   (DIR empty or absent; DEB_CACHE keeps the .debs for next time)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="${1:?usage: rootfs.sh DIR [DEB_CACHE]}"
cache="${2:-}"
pg_major=17
# shellcheck source=test-images/debian.sh
source "$here/../debian.sh"

# Clients first (they start nothing): with them most of the .debs come through debootstrap's cache.
bootstrap trixie "passwd,postgresql-client-$pg_major,tzdata,libnss-wrapper"
official_user postgres /var/lib/postgresql /bin/bash
install -d -o 999 -g 999 -m 755 "$dir/var/lib/postgresql"

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
# (/var/run is the absolute link /run: followed from outside the root it would be this machine's.)
mkdir -p "$dir/run/postgresql" "$dir/var/lib/postgresql/data"
chown 999:999 "$dir/run/postgresql" "$dir/var/lib/postgresql/data"
chmod 3777 "$dir/run/postgresql"
chmod 1777 "$dir/var/lib/postgresql/data"

# No JIT, 150 MB less: without llvmjit.so the server silently runs every query uncompiled (jit is
# only for large analytic queries); LLVM and its solver go with it.
rm -rf "$dir/usr/lib/postgresql/$pg_major/lib/llvmjit"* "$dir/usr/lib/postgresql/$pg_major/lib/bitcode"
if ! out="$(in_root dpkg --purge --force-depends \
    $(in_root dpkg-query -W -f '${Package}\n' 'libllvm*' 'libz3-*') 2>&1)"; then
    echo "$out" >&2
    exit 1
fi
entrypoint "$here/entrypoint.sh"
# ssl-cert's snake-oil pair, made for the build host's name (the server's ssl is off).
rm -f "$dir/etc/ssl/private/ssl-cert-snakeoil.key" "$dir/etc/ssl/certs/ssl-cert-snakeoil.pem"
find "$dir/etc/ssl/certs" -lname '*ssl-cert-snakeoil.pem' -delete
finish
