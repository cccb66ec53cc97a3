import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as resources from "./parts/computeSizes";
import { SERVER_USER } from "./parts/podSecurity";
import { POSTGRESQL_PASSWORD_HOOK, serverAnnotation } from "./parts/passwordRotation";
import { singlePodServer } from "./parts/singlePodServer";
import { POSTGRESQL_PORT } from "../chart/instanceStorage";

/** The database container's name, where the takeover and the restore command `kubectl exec`. */
export const POSTGRESQL_CONTAINER = "postgresql";
const DATA_MOUNT = "/var/lib/postgresql/data";

export interface PostgreSqlServerArgs {
    namespace: pulumi.Input<string>;
    /** Name of the StatefulSet and of the Service Dagster's storage points at. */
    name: string;
    /** The role and database, both created on the first start of an empty data directory. */
    user: string;
    database: string;
    /** Secret holding the role's password under `postgresql-password`. */
    credentialsSecretName: pulumi.Input<string>;
    /** The protected claim that holds the run history. */
    claimName: pulumi.Input<string>;
    nodeHostnames: readonly string[];
    /** The image, by tag or pinned by digest (the `images` setting). */
    image: string;
    /** `passwordRotation.postgresql`: a new one restarts the server, which then sets the new password. */
    rotation?: string;
}

/**
 * The run history's database, run by the program instead of the chart's subchart: the program
 * can then bring it up, back it up and migrate it before any Dagster pod starts (the chart
 * would start them together), and it uses the official image, not Bitnami's withdrawn ones.
 * The official image applies POSTGRES_USER/PASSWORD/DB only to an empty data directory, so the
 * claim must only ever hold data created with these credentials.
 */
export class PostgreSqlServer extends pulumi.ComponentResource {
    public readonly serviceName: pulumi.Output<string>;
    /** The StatefulSet; readiness of its pod is what the migration waits for. */
    public readonly statefulSet: k8s.apps.v1.StatefulSet;

    constructor(name: string, args: PostgreSqlServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("imqcam-dagster:index:PostgreSqlServer", name, {}, opts);
        // Over the socket inside the container: ready means it accepts this role's connections.
        const isReady = { exec: { command: ["sh", "-c", 'pg_isready -q -U "$POSTGRES_USER" -d "$POSTGRES_DB"'] } };
        const { service, statefulSet } = singlePodServer(name, {
            namespace: args.namespace, name: args.name, app: "postgresql",
            port: { name: "postgresql", port: POSTGRESQL_PORT },
            claimName: args.claimName, nodeHostnames: args.nodeHostnames, user: SERVER_USER,
            // The socket and its lock file; temporary files (the takeover's restore copies its dump there).
            scratch: { "run": "/var/run/postgresql", "tmp": "/tmp" },
            // Time to finish a checkpoint on shutdown, so the next start needs no recovery.
            terminationGracePeriodSeconds: 60,
            podAnnotations: serverAnnotation(args.rotation),
            container: {
                name: POSTGRESQL_CONTAINER,
                image: args.image,
                env: [
                    { name: "POSTGRES_USER", value: args.user },
                    { name: "POSTGRES_DB", value: args.database },
                    { name: "POSTGRES_PASSWORD", valueFrom: { secretKeyRef: {
                        name: args.credentialsSecretName, key: "postgresql-password" } } },
                    // A subfolder: a volume's root may hold lost+found, which initdb refuses.
                    { name: "PGDATA", value: `${DATA_MOUNT}/pgdata` },
                ],
                volumeMounts: [{ name: "data", mountPath: DATA_MOUNT }],
                // The role's password from the Secret at every start: the image sets it only once.
                lifecycle: POSTGRESQL_PASSWORD_HOOK,
                readinessProbe: { ...isReady, initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 5 },
                livenessProbe: { ...isReady, initialDelaySeconds: 60, periodSeconds: 30, timeoutSeconds: 10 },
                resources: resources.POSTGRESQL,
            },
        }, this);
        this.statefulSet = statefulSet;

        this.serviceName = service.metadata.name;
        this.registerOutputs({ serviceName: this.serviceName });
    }
}
