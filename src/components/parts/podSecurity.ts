import * as k8s from "@pulumi/kubernetes";

/**
 * Pod Security Admission on the stack's namespace: `baseline` enforced (the Dagster chart's pods
 * run as root, which `restricted` refuses), `restricted` reported as warnings and audit events,
 * so a pod that could be tightened further shows up on `kubectl apply`.
 */
export const POD_SECURITY_LABELS: Record<string, string> = {
    "pod-security.kubernetes.io/enforce": "baseline",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
};

/** The official postgres and rabbitmq images' own users (uid and gid). */
export const SERVER_USER = 999;

/** Every container the program runs: it cannot gain privileges and holds no capabilities. */
export const NO_PRIVILEGES: k8s.types.input.core.v1.SecurityContext = {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
};

/** A container that writes only on its volumes (the Jobs; the database and the broker, with scratch folders): its root read-only. */
export const READ_ONLY_ROOT: k8s.types.input.core.v1.SecurityContext = { ...NO_PRIVILEGES, readOnlyRootFilesystem: true };

/**
 * Every pod the program runs: none calls the Kubernetes API, so none gets a ServiceAccount token;
 * each runs under the runtime's default seccomp profile, as a non-root user whose group owns its
 * volumes (`fsGroup`), so a server writes its data on a new claim without root. Only while the
 * volume's top folder is not yet the group's (`OnRootMismatch`): by default the kubelet makes every
 * file group-writable at each pod start, and RabbitMQ then refuses its Erlang cookie
 * ("must be accessible by owner only") and never starts again (seen on the tests' real node).
 */
export function hardenedPod(user: number, group = user): Pick<k8s.types.input.core.v1.PodSpec, "automountServiceAccountToken" | "securityContext"> {
    return {
        automountServiceAccountToken: false,
        securityContext: {
            seccompProfile: { type: "RuntimeDefault" },
            runAsNonRoot: true, runAsUser: user, runAsGroup: group, fsGroup: group, fsGroupChangePolicy: "OnRootMismatch",
        },
    };
}

/** The user and group that write on the IO share (the `ioVolume.writer` setting): the export decides. */
export interface ShareWriter { uid: number; gid: number }

/**
 * The user-code image's own user (`USER` in code-locations/imqcam/Dockerfile), and the share's
 * writer when `ioVolume.writer` is unset: every pod that writes there runs as one non-root user.
 */
export const USER_CODE_USER: ShareWriter = { uid: 10001, gid: 10001 };

/** A pod that writes on the IO share: as its writer, whatever its image's user. */
export function hardenedShareWriter(writer: ShareWriter) {
    return hardenedPod(writer.uid, writer.gid);
}

/** The runtime's seccomp profile, for every pod the chart and Dagster run. */
export const DAGSTER_POD_SECURITY = { seccompProfile: { type: "RuntimeDefault" } };
/** The chart's webserver listens on port 80, which takes this one capability. */
export const WEBSERVER_SECURITY = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } };

/**
 * A run or step Job's `dagster-k8s/config` (placement.ts) with the same hardening, in the Python
 * client's snake_case: no privilege gain, no capability, the runtime's seccomp profile, and a
 * ServiceAccount token only for a pod that calls the API (run pods; step pods do not), and as the
 * share's writer (both write there).
 */
export function hardenedJobConfig(config: object, callsApi: boolean, writer: ShareWriter): object {
    const c = config as { container_config?: object; pod_spec_config?: object };
    const user = { run_as_non_root: true, run_as_user: writer.uid, run_as_group: writer.gid };
    return {
        ...c,
        container_config: { ...c.container_config,
            security_context: { allow_privilege_escalation: false, capabilities: { drop: ["ALL"] } } },
        pod_spec_config: { ...c.pod_spec_config, automount_service_account_token: callsApi,
            security_context: { seccomp_profile: { type: "RuntimeDefault" }, ...user } },
    };
}
