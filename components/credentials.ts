import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { RABBITMQ_USER } from "./values";

export interface ChartCredentialsArgs {
    namespace: pulumi.Input<string>;
    /** The Helm release name: the broker's Service is `<release>-rabbitmq`. */
    releaseName: string;
}

/**
 * Generated passwords for PostgreSQL and RabbitMQ, and the three Secrets the chart reads them
 * from (it is told their names, never their values). The generated values are protected so that
 * `pulumi destroy --exclude-protected` followed by `pulumi up` brings back the same
 * credentials: the retained database only accepts the password it was created with.
 */
export class ChartCredentials extends pulumi.ComponentResource {
    public readonly postgresqlSecretName: pulumi.Output<string>;
    public readonly rabbitmqSecretName: pulumi.Output<string>;
    public readonly celeryConfigSecretName: pulumi.Output<string>;
    public readonly secrets: k8s.core.v1.Secret[];

    constructor(name: string, args: ChartCredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("imqcam-dagster:index:ChartCredentials", name, {}, opts);
        const keep = { parent: this, protect: true };
        // Letters and digits only: the broker password is embedded in a URL.
        const password = (id: string) =>
            new random.RandomPassword(`${name}-${id}`, { length: 32, special: false }, keep).result;
        const postgresqlPassword = password("postgresql-password");
        const postgresqlAdminPassword = password("postgresql-postgres-password");
        const rabbitmqPassword = password("rabbitmq-password");
        const erlangCookie = password("rabbitmq-erlang-cookie");

        const secret = (id: string, stringData: Record<string, pulumi.Input<string>>) =>
            new k8s.core.v1.Secret(`${name}-${id}`, {
                metadata: { name: `${args.releaseName}-${id}`, namespace: args.namespace },
                type: "Opaque",
                stringData,
            }, { parent: this });

        const postgresql = secret("postgresql-credentials", {
            // The key both Dagster (DAGSTER_PG_PASSWORD) and the database container read.
            "postgresql-password": postgresqlPassword,
            // The subchart also reads the superuser's password from an existing Secret.
            "postgresql-postgres-password": postgresqlAdminPassword,
        });
        const rabbitmq = secret("rabbitmq-credentials", {
            "rabbitmq-password": rabbitmqPassword,
            "rabbitmq-erlang-cookie": erlangCookie,
        });
        const celeryConfig = secret("celery-config", {
            DAGSTER_CELERY_BROKER_URL: pulumi.secret(pulumi.interpolate
                `pyamqp://${RABBITMQ_USER}:${rabbitmqPassword}@${args.releaseName}-rabbitmq:5672//`),
            DAGSTER_CELERY_BACKEND_URL: "rpc://",
        });

        this.secrets = [postgresql, rabbitmq, celeryConfig];
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
