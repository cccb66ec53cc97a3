#!/usr/bin/env bash
# Entry point of the stand-in for docker.io/library/rabbitmq:3.13 (test-images/rabbitmq), with the
# official image's contract (its docker-entrypoint.sh):
# - a first argument starting with "-" means `rabbitmq-server ARGS` (the default command);
# - as root, for any rabbitmq* command: /var/lib/rabbitmq (the data volume, root-owned when new)
#   and the log folder are given to the rabbitmq user, then this script runs again as rabbitmq
#   (setpriv, like gosu), HOME=/var/lib/rabbitmq, where the Erlang cookie is;
# - long node names when the hostname is a long one;
# - then the command replaces this process (exec); for rabbitmq-server that is RabbitMQ's own
#   script, not Debian's wrapper: the broker in the foreground, logging to stdout (RABBITMQ_LOGS=-).
# RABBITMQ_DEFAULT_USER/RABBITMQ_DEFAULT_PASS are read by the broker itself on its first start.
set -euo pipefail

if [ "${1:0:1}" = '-' ]; then
    set -- rabbitmq-server "$@"
fi

if [[ "${1:-}" == rabbitmq* ]] && [ "$(id -u)" = 0 ]; then
    if [ "$1" = rabbitmq-server ]; then
        mkdir -p /var/lib/rabbitmq /var/log/rabbitmq
        find /var/lib/rabbitmq /var/log/rabbitmq \! -user rabbitmq -exec chown rabbitmq:rabbitmq '{}' +
    fi
    exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups \
        env HOME=/var/lib/rabbitmq USER=rabbitmq LOGNAME=rabbitmq "${BASH_SOURCE[0]}" "$@"
fi

if [ -z "${RABBITMQ_USE_LONGNAME:-}" ] && [ "$(hostname)" != "$(hostname -s)" ]; then
    export RABBITMQ_USE_LONGNAME=true
fi

if [ "${1:-}" = rabbitmq-server ]; then
    # Debian's /usr/sbin/rabbitmq-server (its wrapper) would send the broker's output to
    # /var/log/rabbitmq/startup_log and wait for it: the broker's own script instead, the one the
    # official image runs (it starts the Erlang VM and stops it cleanly on SIGTERM).
    shift
    set -- /usr/lib/rabbitmq/bin/rabbitmq-server "$@"
    cd /var/lib/rabbitmq
fi

exec "$@"
