#!/bin/sh
# One backup of the run history to the NFS share: `pg_dump --format=custom` to a hidden temporary
# file beside the final one, read back completely by pg_restore, its sha256 written, then renamed
# into place; afterwards the oldest backups of the same name are pruned. Runs in the official
# postgres image (dash, coreutils), for the scheduled CronJob and before each migration.
#
# Environment (nothing on the command line, so the password never shows in a process list):
#   PGHOST, PGPORT (optional)   the database's address, read by pg_dump itself
#   POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB
#   BACKUP_ROOT   the share's mount point; must already be a directory (never created here)
#   BACKUP_DIR    a folder under BACKUP_ROOT, created if missing
#   BACKUP_NAME   the file name prefix, e.g. scheduled or before-dagster-1.13.27
#   BACKUP_KEEP   how many backups with this prefix to keep (>= 1), the newest ones; a backup the
#                 history was restored from (history.py records its sha256 in the database, table
#                 imqcam_restored_from) is never pruned and does not count
#   BACKUP_WAIT_SECONDS  how long to wait for the database to answer (default 300): it may be
#                 restarting, and its headless Service names it only once it is ready
#   BACKUP_SCHEMA_IN_NAME  "true": the name ends in -from-<the schema's alembic revision> ("empty"
#                 without one), so each schema version a migration starts from keeps its own backup
#
# Writes BACKUP_DIR/BACKUP_NAME-YYYYmmddTHHMMSSZ.dump (UTC) and .dump.sha256 beside it, prints the
# path of the .dump on stdout. On any failure no partial .dump is left and the exit code is 1.
set -eu

say() { echo "backup: $*" >&2; }
fail() {
    echo "backup failed: $*" >&2
    exit 1
}

for var in POSTGRES_USER POSTGRES_PASSWORD POSTGRES_DB BACKUP_ROOT BACKUP_DIR BACKUP_NAME BACKUP_KEEP; do
    eval "value=\${$var:-}"
    [ -n "$value" ] || fail "$var is not set"
done

BACKUP_ROOT="${BACKUP_ROOT%/}" # so that BACKUP_DIR is compared with it whether or not it ends in /

# An absent mount point means the share is not mounted: writing anyway would put the backup in
# the container's own file system, which disappears with the pod.
[ -d "$BACKUP_ROOT" ] || fail "BACKUP_ROOT $BACKUP_ROOT is not a directory: the NFS share is not mounted there"
case "$BACKUP_DIR" in
    */../* | */..) fail "BACKUP_DIR $BACKUP_DIR must not contain '..'" ;;
    "$BACKUP_ROOT"/?*) ;;
    *) fail "BACKUP_DIR $BACKUP_DIR is not a folder under BACKUP_ROOT $BACKUP_ROOT" ;;
esac
# The prefix becomes part of a file name and of the pruning pattern: no slashes, no glob characters.
case "$BACKUP_NAME" in
    *[!A-Za-z0-9._-]*) fail "BACKUP_NAME '$BACKUP_NAME' may only contain letters, digits, '.', '_' and '-'" ;;
esac
case "$BACKUP_KEEP" in
    *[!0-9]*) fail "BACKUP_KEEP '$BACKUP_KEEP' is not a whole number" ;;
esac
[ "$BACKUP_KEEP" -ge 1 ] || fail "BACKUP_KEEP must be at least 1 (it is $BACKUP_KEEP)"
wait_seconds="${BACKUP_WAIT_SECONDS:-300}"
case "$wait_seconds" in
    "" | *[!0-9]*) fail "BACKUP_WAIT_SECONDS '$wait_seconds' is not a whole number" ;;
esac

mkdir -p "$BACKUP_DIR" || fail "cannot create $BACKUP_DIR on the share"

# Backups are <name>-<UTC time>.dump; this glob matches exactly the time part, so a name that
# merely starts with BACKUP_NAME (scheduled-extra-...) never matches BACKUP_NAME's files.
stamp_glob='[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z'

PGPASSWORD="$POSTGRES_PASSWORD"
export PGPASSWORD
waited=0
until pg_isready -q --username="$POSTGRES_USER" --dbname="$POSTGRES_DB"; do
    [ "$waited" -lt "$wait_seconds" ] || fail "the database at ${PGHOST:-the local socket} did not answer within $wait_seconds s"
    [ "$waited" -gt 0 ] || say "waiting for the database at ${PGHOST:-the local socket}"
    sleep 2
    waited=$((waited + 2))
done
# query SQL: one value from the database, or fail naming what was asked.
query() {
    psql -X -A -t -v ON_ERROR_STOP=1 --no-password --username="$POSTGRES_USER" --dbname="$POSTGRES_DB" -c "$1" ||
        fail "cannot read the database $POSTGRES_DB ($2)"
}
if [ "${BACKUP_SCHEMA_IN_NAME:-}" = true ]; then
    schema=empty
    if [ "$(query "SELECT to_regclass('public.alembic_version') IS NOT NULL" "its schema revision")" = t ]; then
        schema="$(query "SELECT string_agg(version_num, '-' ORDER BY version_num) FROM alembic_version" "its schema revision")"
    fi
    case "$schema" in
        "" | *[!a-z0-9-]*) fail "unexpected schema revision '$schema' in $POSTGRES_DB" ;;
    esac
    BACKUP_NAME="$BACKUP_NAME-from-$schema"
fi
name="$BACKUP_NAME-$(date -u +%Y%m%dT%H%M%SZ).dump"
final="$BACKUP_DIR/$name"
[ ! -e "$final" ] || fail "$final already exists (two backups named $BACKUP_NAME in the same second)"

# A hidden name that the pruning pattern below never matches. Temporary files of this prefix
# older than a day are the remains of a pod killed outright (no trap runs then): remove them.
find "$BACKUP_DIR" -maxdepth 1 -type f -name ".$BACKUP_NAME-$stamp_glob.dump.partial.*" -mmin +1440 \
    -exec rm -f {} + || true
tmp="$(mktemp "$BACKUP_DIR/.$name.partial.XXXXXX")" || fail "cannot create a file in $BACKUP_DIR"
cleanup() { rm -f "$tmp" "$tmp.sha256"; }
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

say "dumping database $POSTGRES_DB as $POSTGRES_USER from ${PGHOST:-the local socket}"
pg_dump --format=custom --no-password --username="$POSTGRES_USER" --dbname="$POSTGRES_DB" --file="$tmp" ||
    fail "pg_dump of $POSTGRES_DB did not complete; no backup written"

# Read the whole archive back (to /dev/null): `pg_restore --list` reads only the table of
# contents at the start and passes a file cut short in its data; this reads every block.
pg_restore --file=/dev/null "$tmp" || fail "the dump cannot be read back to its end; no backup written"

sum="$(sha256sum <"$tmp" | cut -d ' ' -f 1)"
printf '%s  %s\n' "$sum" "$name" >"$tmp.sha256"

# The .dump is the commit point: once it has its final name, it is complete and has its sha256.
mv -f "$tmp.sha256" "$final.sha256"
mv -f "$tmp" "$final" || {
    rm -f "$final.sha256"
    fail "cannot rename the dump to $final"
}
trap - EXIT HUP INT TERM

# Prune the oldest backups of exactly this name; the glob sorts them by time, oldest first. Never
# one the history was restored from: it may be the only copy of what was restored.
restored=""
if [ "$(query "SELECT to_regclass('public.imqcam_restored_from') IS NOT NULL" "which backups it was restored from")" = t ]; then
    restored="$(query "SELECT string_agg(sha256, ' ') FROM imqcam_restored_from" "which backups it was restored from")"
fi
kept_for_restore() {
    [ -f "$1.sha256" ] || return 1
    case " $restored " in *" $(cut -d ' ' -f 1 "$1.sha256") "*) return 0 ;; esac
    return 1
}
count=0
for f in "$BACKUP_DIR/$BACKUP_NAME"-$stamp_glob.dump; do
    [ -f "$f" ] && ! kept_for_restore "$f" && count=$((count + 1))
done
for f in "$BACKUP_DIR/$BACKUP_NAME"-$stamp_glob.dump; do
    [ "$count" -gt "$BACKUP_KEEP" ] || break
    [ -f "$f" ] || continue
    if kept_for_restore "$f"; then
        say "keeping $f: the run history was restored from it"
        continue
    fi
    say "pruning $f (keeping the newest $BACKUP_KEEP)"
    rm -f "$f" "$f.sha256"
    count=$((count - 1))
done

say "wrote $final ($(wc -c <"$final") bytes, sha256 $sum)"
echo "$final"
