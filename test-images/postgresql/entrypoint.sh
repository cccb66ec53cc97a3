#!/usr/bin/env bash
# Entry point of the stand-in for docker.io/library/postgres:17 (test-images/postgresql), with the
# official image's contract (its docker-entrypoint.sh):
# - `postgres ARGS` (the default command; a first argument starting with "-" means the same);
#   anything else is exec'd as it is.
# - As root: PGDATA is created, given to the postgres user and made 0700, the socket folder
#   /var/run/postgresql too, then this script runs again as postgres (setpriv, like gosu).
# - As any other user: when PGDATA has no PG_VERSION, it is initialised once: initdb with the
#   superuser POSTGRES_USER (default postgres) and its password POSTGRES_PASSWORD, UTF8, local
#   (socket) connections trusted, host connections by scram-sha-256 (POSTGRES_HOST_AUTH_METHOD),
#   listening on all addresses; the database POSTGRES_DB (default POSTGRES_USER) is created by a
#   temporary server on the socket only. An existing PGDATA is never touched: POSTGRES_* are
#   then ignored. Finally postgres replaces this process (exec).
# POSTGRES_USER/PASSWORD/DB/INITDB_ARGS may also be given as *_FILE, as in the official image.
# - A user missing from /etc/passwd (a pod's runAsUser) gets an entry through nss_wrapper for initdb,
#   which looks its own user up, as in the official image.
# Not done: docker-entrypoint-initdb.d scripts, POSTGRES_INITDB_WALDIR.
set -Eeo pipefail

# file_env VAR [DEFAULT]: VAR from the environment, else from the file VAR_FILE names, else DEFAULT.
file_env() {
    local var="$1" file_var="${1}_FILE" default="${2:-}" value
    if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
        echo >&2 "error: both $var and $file_var are set (but are exclusive)"
        exit 1
    fi
    value="$default"
    if [ -n "${!var:-}" ]; then
        value="${!var}"
    elif [ -n "${!file_var:-}" ]; then
        value="$(<"${!file_var}")"
    fi
    export "$var"="$value"
    unset "$file_var"
}

# Options that only print something: no initialisation for them.
wants_help() {
    local arg
    for arg; do
        case "$arg" in
            -'?' | --help | --describe-config | -V | --version) return 0 ;;
        esac
    done
    return 1
}

init_database() {
    file_env POSTGRES_PASSWORD
    file_env POSTGRES_USER postgres
    file_env POSTGRES_DB "$POSTGRES_USER"
    file_env POSTGRES_INITDB_ARGS
    : "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
    if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
        cat >&2 <<'EOE'
Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".
EOE
        exit 1
    fi

    # The password through a pipe, never on a command line.
    local pwfile=''
    if [ -n "$POSTGRES_PASSWORD" ]; then
        pwfile='--pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD")'
    fi
    # initdb needs a passwd entry for the user it runs as: nss_wrapper gives one, for initdb only.
    local nss=()
    if ! getent passwd "$(id -u)" >/dev/null; then
        NSS_WRAPPER_PASSWD="$(mktemp)" NSS_WRAPPER_GROUP="$(mktemp)"
        echo "postgres:x:$(id -u):$(id -g):PostgreSQL:$PGDATA:/bin/false" >"$NSS_WRAPPER_PASSWD"
        echo "postgres:x:$(id -g):" >"$NSS_WRAPPER_GROUP"
        nss=(env LD_PRELOAD=libnss_wrapper.so NSS_WRAPPER_PASSWD="$NSS_WRAPPER_PASSWD" NSS_WRAPPER_GROUP="$NSS_WRAPPER_GROUP")
    fi
    # POSTGRES_INITDB_ARGS is a shell-quoted string, as in the official image.
    eval '"${nss[@]}" initdb --username="$POSTGRES_USER" '"$pwfile"' --encoding=UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD" '"$POSTGRES_INITDB_ARGS"
    # Connections from anywhere, with the password (initdb's own host lines cover the loopback).
    printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"

    # A temporary server on the socket only, to create the database.
    (
        unset PGHOST PGHOSTADDR
        export PGPORT="${PGPORT:-5432}"
        pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p $PGPORT" -w start
        if [ "$POSTGRES_DB" != postgres ]; then
            psql -X -q -v ON_ERROR_STOP=1 --username="$POSTGRES_USER" --no-password --dbname=postgres \
                --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
        fi
        pg_ctl -D "$PGDATA" -m fast -w stop
    )
    echo
    echo 'PostgreSQL init process complete; ready for start up.'
    echo
}

if [ "${1:0:1}" = '-' ]; then
    set -- postgres "$@"
fi

if [ "${1:-}" = postgres ] && ! wants_help "$@"; then
    : "${PGDATA:?PGDATA is not set}"
    if [ "$(id -u)" = 0 ]; then
        mkdir -p "$PGDATA" /var/run/postgresql
        find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
        find /var/run/postgresql \! -user postgres -exec chown postgres:postgres '{}' +
        chmod 700 "$PGDATA"
        chmod 3777 /var/run/postgresql
        exec setpriv --reuid=postgres --regid=postgres --init-groups \
            env HOME=/var/lib/postgresql USER=postgres LOGNAME=postgres "${BASH_SOURCE[0]}" "$@"
    fi
    mkdir -p "$PGDATA"
    chmod 700 "$PGDATA" 2>/dev/null || :
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
        init_database
    else
        echo
        echo 'PostgreSQL Database directory appears to contain a database; Skipping initialization'
        echo
    fi
fi

exec "$@"
