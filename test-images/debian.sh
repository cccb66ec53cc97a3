# Sourced by the stand-ins' rootfs.sh (bash): a Debian root file system built without starting
# anything, reusing a cache of .debs. The caller sets `dir` (empty or absent) and `cache` (or "").
# No service starts while packages install: a policy-rc.d refuses every start until `finish`.

mirror=http://deb.debian.org/debian

# bootstrap SUITE INCLUDE: minbase of SUITE into $dir, with the packages INCLUDE lists.
bootstrap() {
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
    debootstrap --variant=minbase ${cache:+--cache-dir="$cache"} --include="$2" "$1" "$dir" "$mirror" >/dev/null
    printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
    chmod 755 "$dir/usr/sbin/policy-rc.d"
    # debootstrap leaves the lists it used; fetch them only if it did not.
    if ! compgen -G "$dir/var/lib/apt/lists/*_Packages" >/dev/null; then
        in_root apt-get -q update >/dev/null
    fi
}

in_root() { chroot "$dir" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }

# official_user NAME HOME SHELL: the official image's user and group (uid/gid 999), made before
# the package would make its own.
official_user() {
    in_root groupadd --system --gid 999 "$1"
    in_root useradd --system --uid 999 --gid "$1" --home-dir "$2" --shell "$3" "$1"
}

# apt_install PACKAGE...: from the chroot's apt, reusing and filling the cache.
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

# entrypoint FILE: installed as the official images have theirs.
entrypoint() {
    install -D -m 755 "$1" "$dir/usr/local/bin/docker-entrypoint.sh"
    ln -sf usr/local/bin/docker-entrypoint.sh "$dir/docker-entrypoint.sh"
}

# finish: small and neutral: no package lists, .debs, documentation, build host's names or device
# nodes (the runtime provides /dev, /etc/hosts, /etc/hostname and /etc/resolv.conf); services may
# start again.
finish() {
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
}
