// Rotating the generated passwords (the `passwordRotation` setting). The generated values stay as
// they are, protected; the password in use is derived from one and its rotation label, so a new
// label is a new password and `pulumi destroy --exclude-protected` then `pulumi up` brings the same
// one back. Each server sets its user's password from its Secret every time it starts (a postStart
// hook, on its own socket or node), so the Pulumi order Secret -> server rolled and Ready -> Release
// puts a new password into the server before any Dagster pod that uses it starts.
import { createHmac } from "crypto";

/** On the servers' and the chart's pod templates: a new label restarts them, and only them. */
export const ROTATION_ANNOTATION = "imqcam-dagster/password-rotation";

export interface RotationLabels {
    postgresql?: string;
    rabbitmq?: string;
}

/** The password in use: the generated one until a label is set, then HMAC-SHA256(generated, label), hex. */
export function passwordInUse(generated: string, label: string | undefined): string {
    return label === undefined ? generated
        : createHmac("sha256", generated).update(`imqcam-dagster password rotation ${label}`).digest("hex");
}

/** The annotation of the Dagster pods, which use both passwords; none while nothing was rotated. */
export function dagsterPodsAnnotation(labels: RotationLabels): Record<string, string> {
    const set = Object.entries(labels).filter(([, label]) => label !== undefined);
    return set.length ? { [ROTATION_ANNOTATION]: set.map(([server, label]) => `${server}=${label}`).join(",") } : {};
}

/** One server's annotation: its own label only, so the other server keeps running. */
export function serverAnnotation(label: string | undefined): Record<string, string> {
    return label === undefined ? {} : { [ROTATION_ANNOTATION]: label };
}

// Retried for up to ten minutes: a server may first replay its log (PostgreSQL's recovery after an
// unclean stop) or load its queues, and on the very first start the image's entrypoint runs a
// temporary server while it initialises, then stops it. The pod is Ready only after the hook.
// Nothing of the password reaches a log or an argument list: printf is the shell's own, psql
// reads stdin, and a failing statement is not logged.
const POSTGRESQL_HOOK = `i=0
until printf 'SET log_min_error_statement = panic;\\nALTER ROLE "%s" PASSWORD '"'"'%s'"'"';\\n' "$POSTGRES_USER" "$POSTGRES_PASSWORD" |
      psql -X -q -v ON_ERROR_STOP=1 -h /var/run/postgresql -U "$POSTGRES_USER" -d postgres >/dev/null 2>&1; do
  i=$((i + 1)); [ "$i" -lt 300 ] || { echo "could not set the password of role $POSTGRES_USER" >&2; exit 1; }; sleep 2
done`;

const RABBITMQ_HOOK = `i=0
until rabbitmqctl -q await_startup >/dev/null 2>&1 &&
      printf '%s\\n' "$RABBITMQ_DEFAULT_PASS" | rabbitmqctl -q change_password "$RABBITMQ_DEFAULT_USER" >/dev/null 2>&1; do
  i=$((i + 1)); [ "$i" -lt 300 ] || { echo "could not set the password of user $RABBITMQ_DEFAULT_USER" >&2; exit 1; }; sleep 2
done`;

const hook = (script: string) => ({ postStart: { exec: { command: ["sh", "-c", script] } } });
/** PostgreSQL: ALTER ROLE over the local socket, which the image trusts inside the pod. */
export const POSTGRESQL_PASSWORD_HOOK = hook(POSTGRESQL_HOOK);
/** RabbitMQ: rabbitmqctl on the node itself, the password on stdin. */
export const RABBITMQ_PASSWORD_HOOK = hook(RABBITMQ_HOOK);
