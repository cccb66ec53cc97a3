// Who may talk to whom inside the stack's namespace: one table, from which every NetworkPolicy
// is built by a pure function (tests call it directly and feed its output to a policy analyser).
import type * as k8s from "@pulumi/kubernetes";
import { MIGRATION_JOB_LABEL } from "../instanceMigration";
import { AMQP_PORT } from "../rabbitmq";
import { POSTGRESQL_PORT } from "../../chart/instanceStorage";
import { CELERY_WORKER_LABELS } from "../../chart/values";

/** Every kind of pod the stack runs: the chart's, the run launcher's Jobs', and the program's own. */
export type PodRole =
    | "webserver" | "daemon" | "codeServers" | "celeryWorkers" | "runPods" | "stepPods"
    | "postgresql" | "rabbitmq" | "instanceMigration" | "databaseBackups" | "computeLogPruning";
/** The roles that listen: each admits only the roles that name it in `connectsTo`. */
export type ServerRole = "postgresql" | "rabbitmq" | "codeServers";

export interface RoleAccess {
    /** Labels every pod of the role carries, and no pod of another role carries. */
    selector: Record<string, string>;
    connectsTo: ServerRole[];
    /** It calls the Kubernetes API (its ServiceAccount's token): launches, watches or deletes Jobs. */
    callsApi: boolean;
    /** It runs the code location's code, which may reach what `network.userCodeEgress` allows. */
    runsUserCode: boolean;
}

/** The names the program gives its own pods' objects (their `app.kubernetes.io/instance`). */
export interface ProgramPodNames {
    postgresql: string;
    rabbitmq: string;
    databaseBackups: string;
    computeLogPruning: string;
}

/** What user code may reach: addresses outside the cluster, or pods of another namespace. */
export type EgressPeer =
    | { cidr: string; except?: string[]; ports?: number[] }
    | { namespace: string; ports?: number[] };

export interface NetworkAccessSettings {
    /** The Kubernetes API server's endpoints: addresses and ports after the `kubernetes` Service. */
    apiServer: { cidrs: string[]; ports: number[] };
    userCodeEgress: EgressPeer[];
}

export const DEFAULT_NETWORK_ACCESS: NetworkAccessSettings = {
    apiServer: { cidrs: ["0.0.0.0/0"], ports: [443, 6443] },
    userCodeEgress: [{ cidr: "0.0.0.0/0" }],
};

/**
 * The table. Chart pods are told apart by the chart's `component` label (the Celery workers' is
 * the program's, values.ts), run and step pods by the `app.kubernetes.io/component` that dagster-k8s
 * gives their Jobs (with the `instance` it writes, always `dagster`), the program's pods by the
 * labels their components give them.
 */
export function podRoles(release: string, names: ProgramPodNames): Record<PodRole, RoleAccess> {
    const chart = (component: string) => ({ "app.kubernetes.io/instance": release, component });
    const job = (component: string) => ({ "app.kubernetes.io/instance": "dagster", "app.kubernetes.io/component": component });
    const program = (app: string, instance?: string) =>
        ({ "app.kubernetes.io/name": app, ...(instance ? { "app.kubernetes.io/instance": instance } : {}) });
    const history: ServerRole[] = ["postgresql"];
    return {
        // The UI and its GraphQL API: reached through `kubectl port-forward` only (no pod's traffic).
        webserver: { selector: chart("dagster-webserver"), connectsTo: [...history, "codeServers"], callsApi: true, runsUserCode: false },
        daemon: { selector: chart("dagster-daemon"), connectsTo: [...history, "codeServers"], callsApi: true, runsUserCode: false },
        codeServers: { selector: chart("user-deployments"), connectsTo: history, callsApi: false, runsUserCode: true },
        celeryWorkers: { selector: { "app.kubernetes.io/instance": release, ...CELERY_WORKER_LABELS }, connectsTo: [...history, "rabbitmq"], callsApi: true, runsUserCode: false },
        // A run pod submits its steps to the broker and reads its code location's metadata.
        runPods: { selector: job("run_worker"), connectsTo: [...history, "rabbitmq", "codeServers"], callsApi: true, runsUserCode: true },
        stepPods: { selector: job("step_worker"), connectsTo: history, callsApi: false, runsUserCode: true },
        postgresql: { selector: program("postgresql", names.postgresql), connectsTo: [], callsApi: false, runsUserCode: false },
        rabbitmq: { selector: program("rabbitmq", names.rabbitmq), connectsTo: [], callsApi: false, runsUserCode: false },
        instanceMigration: { selector: program(MIGRATION_JOB_LABEL), connectsTo: history, callsApi: false, runsUserCode: false },
        databaseBackups: { selector: program("postgresql-backup", names.databaseBackups), connectsTo: history, callsApi: false, runsUserCode: false },
        computeLogPruning: { selector: program("compute-log-pruning", names.computeLogPruning), connectsTo: [], callsApi: false, runsUserCode: false },
    };
}

/** A NetworkPolicy's name and spec, ready for `k8s.networking.v1.NetworkPolicy`. */
export interface PolicySpec {
    name: string;
    spec: k8s.types.input.networking.v1.NetworkPolicySpec;
}

const tcp = (ports: readonly number[]) => ports.map((port) => ({ protocol: "TCP", port }));

/**
 * The policies: everything in the namespace denied both ways, then DNS for every pod, then for
 * each server the roles that connect to it (ingress), and for each role what it connects to, the
 * API server when it calls it, and `userCodeEgress` when it runs user code (egress).
 */
export function networkPolicySpecs(
    roles: Record<PodRole, RoleAccess>, codeServerPorts: readonly number[], access: NetworkAccessSettings,
): PolicySpec[] {
    const serverPorts: Record<ServerRole, readonly number[]> = {
        postgresql: [POSTGRESQL_PORT], rabbitmq: [AMQP_PORT], codeServers: [...new Set(codeServerPorts)].sort((a, b) => a - b),
    };
    const entries = Object.entries(roles) as [PodRole, RoleAccess][];
    const pods = (role: PodRole) => ({ podSelector: { matchLabels: roles[role].selector } });
    const policies: PolicySpec[] = [
        { name: "deny-all", spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } },
        // Port 53 to any address: the cluster's DNS may be a node-local cache outside any namespace.
        { name: "dns", spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ ports: [53, 53].map((port, i) =>
            ({ protocol: i === 0 ? "UDP" : "TCP", port })) }] } },
    ];
    for (const server of Object.keys(serverPorts) as ServerRole[]) {
        const clients = entries.filter(([, r]) => r.connectsTo.includes(server)).map(([role]) => pods(role));
        policies.push({ name: `${kebab(server)}-clients`, spec: {
            podSelector: { matchLabels: roles[server].selector }, policyTypes: ["Ingress"],
            ingress: [{ from: clients, ports: tcp(serverPorts[server]) }],
        } });
    }
    for (const [role, r] of entries) {
        const egress: k8s.types.input.networking.v1.NetworkPolicyEgressRule[] = r.connectsTo.map((server) => ({ to: [pods(server)], ports: tcp(serverPorts[server]) }));
        if (r.callsApi) {
            egress.push({ to: access.apiServer.cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: tcp(access.apiServer.ports) });
        }
        if (r.runsUserCode) egress.push(...access.userCodeEgress.map(egressRule));
        if (egress.length === 0) continue;
        policies.push({ name: `${kebab(role)}-egress`, spec: {
            podSelector: { matchLabels: r.selector }, policyTypes: ["Egress"], egress,
        } });
    }
    return policies;
}

function egressRule(peer: EgressPeer): k8s.types.input.networking.v1.NetworkPolicyEgressRule {
    const to = "cidr" in peer
        ? { ipBlock: { cidr: peer.cidr, ...(peer.except?.length ? { except: peer.except } : {}) } }
        : { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": peer.namespace } } };
    return { to: [to], ...(peer.ports?.length ? { ports: tcp(peer.ports) } : {}) };
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
