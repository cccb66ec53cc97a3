import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { passwordInUse, RotationLabels } from "./parts/passwordRotation";
import { AMQP_PORT } from "./rabbitmq";

/** The broker's user; fixed, because the retained broker data was created with it. */
export const RABBITMQ_USER = "dagster";
const SECRETS = ["postgresql-credentials", "rabbitmq-credentials", "celery-config"] as const;

/** The Secrets that hold the generated passwords, which the program checks before writing them. */
export function credentialsSecretNames(releaseName: string): string[] {
    return SECRETS.map((id) => `${releaseName}-${id}`);
}

export interface ChartCredentialsArgs {
    namespace: pulumi.Input<string>;
    /** The Helm release name: the Secrets are `<release>-...`. */
    releaseName: string;
    /** The broker's Service, for the Celery broker URL. */
    brokerHost: string;
    /** Marks the Secrets as this stack instance's (src/components/stackInstance.ts). */
    annotations: Record<string, pulumi.Input<string>>;
    /** The `passwordRotation` labels (src/components/parts/passwordRotation.ts). */
    rotation: RotationLabels;
}

/**
 * Generated passwords for PostgreSQL and RabbitMQ, and the Secrets the chart, the database and
 * the broker read them from (the chart is told their names, never their values). The generated values
 * are protected so that `pulumi destroy --exclude-protected` followed by `pulumi up` brings
 * back the same credentials: the retained data only accepts the password it was created with (or
 * last rotated to: the password in use is derived from the generated one, src/components/parts/passwordRotation.ts).
 */
export class ChartCredentials extends pulumi.ComponentResource {
    public readonly postgresqlSecretName: pulumi.Output<string>;
    public readonly rabbitmqSecretName: pulumi.Output<string>;
    public readonly celeryConfigSecretName: pulumi.Output<string>;

    constructor(name: string, args: ChartCredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("imqcam-dagster:index:ChartCredentials", name, {}, opts);
        const keep = { parent: this, protect: true };
        // Letters and digits only: the broker password is embedded in a URL.
        const password = (id: string, label: string | undefined) => pulumi.secret(
            new random.RandomPassword(`${name}-${id}`, { length: 32, special: false }, keep).result
                .apply((generated) => passwordInUse(generated, label)));
        const postgresqlPassword = password("postgresql-password", args.rotation.postgresql);
        const rabbitmqPassword = password("rabbitmq-password", args.rotation.rabbitmq);

        const secret = (id: typeof SECRETS[number], stringData: Record<string, pulumi.Input<string>>) =>
            new k8s.core.v1.Secret(`${name}-${id}`, {
                metadata: { name: `${args.releaseName}-${id}`, namespace: args.namespace, annotations: args.annotations },
                type: "Opaque",
                stringData,
            }, { parent: this });

        const postgresql = secret("postgresql-credentials", {
            // The key Dagster (DAGSTER_PG_PASSWORD), the database, its backups and migrations read.
            "postgresql-password": postgresqlPassword,
        });
        const rabbitmq = secret("rabbitmq-credentials", {
            "rabbitmq-password": rabbitmqPassword,
        });
        const celeryConfig = secret("celery-config", {
            DAGSTER_CELERY_BROKER_URL: pulumi.secret(pulumi.interpolate
                `pyamqp://${RABBITMQ_USER}:${rabbitmqPassword}@${args.brokerHost}:${AMQP_PORT}//`),
            DAGSTER_CELERY_BACKEND_URL: "rpc://",
        });

        this.postgresqlSecretName = postgresql.metadata.name;
        this.rabbitmqSecretName = rabbitmq.metadata.name;
        this.celeryConfigSecretName = celeryConfig.metadata.name;
        this.registerOutputs({
            postgresqlSecretName: this.postgresqlSecretName,
            rabbitmqSecretName: this.rabbitmqSecretName,
            celeryConfigSecretName: this.celeryConfigSecretName,
        });
    }
}
