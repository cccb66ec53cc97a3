// The deployment's table of contents: from validated settings to a running Dagster.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Settings } from "./config";
import { ChartCredentials, RABBITMQ_USER } from "./components/credentials";
import { DagsterRelease } from "./components/dagsterRelease";
import { DataVolumes } from "./components/dataVolumes";
import { EnvSecrets } from "./components/envSecrets";
import { ImagePullSecret } from "./components/imagePullSecret";
import { IoVolume } from "./components/ioVolume";
import { RabbitMqBroker } from "./components/rabbitmq";
import { UserCodeImage } from "./components/userCodeImage";

/** The Helm release name; the chart derives every object name from it. */
export const RELEASE_NAME = "dagster";
/** The IO volume and its claim, named as in the manual deployment so its data is adopted. */
export const IO_VOLUME_NAME = "imqcam-dagster-io-data";
/** The claim the chart's PostgreSQL StatefulSet would make, so the manual deployment's run history is adopted. */
export const POSTGRESQL_CLAIM_NAME = `data-${RELEASE_NAME}-postgresql-0`;
export const RABBITMQ_CLAIM_NAME = `${RELEASE_NAME}-rabbitmq-data`;
/** The broker's Service, where Celery's broker URL points. */
export const BROKER_NAME = `${RELEASE_NAME}-rabbitmq`;
const WEBSERVER_LOCAL_PORT = 9000;

export interface StackOutputs {
    namespace: pulumi.Output<string>;
    releaseName: pulumi.Output<string>;
    chartVersion: pulumi.Output<string>;
    webserverService: string;
    portForwardCommand: pulumi.Output<string>;
    codeLocationImages: Record<string, pulumi.Output<string>>;
    releaseValues: pulumi.Output<Record<string, unknown>>;
}

export function deployDagster(settings: Settings): StackOutputs {
    // 1. The user-code images. The Release waits for their digests, so a broken build stops
    //    the upgrade before any pod is told to run it.
    const images = settings.codeLocations.map((location) => new UserCodeImage(location.name, {
        location, dagsterVersion: settings.dagsterVersion, registry: settings.registry,
    }));

    // 2. The namespace. Protected: deleting it would delete every claim in it, data included.
    const namespace = new k8s.core.v1.Namespace("namespace", {
        metadata: { name: settings.namespace },
    }, { protect: true }).metadata.name;

    // 3. Storage that outlives the release: the IO volume, the database's and the broker's data.
    const ioVolume = new IoVolume("io-volume", { namespace, name: IO_VOLUME_NAME, volume: settings.ioVolume });
    const dataVolumes = new DataVolumes("data-volumes", {
        namespace,
        postgresql: { name: POSTGRESQL_CLAIM_NAME, settings: settings.postgresqlVolume },
        rabbitmq: { name: RABBITMQ_CLAIM_NAME, settings: settings.rabbitmqVolume },
    });

    // 4. Secrets: the user's, the chart's generated credentials, and registry pull access.
    const envSecrets = new EnvSecrets("env-secrets", { namespace, secrets: settings.envSecrets });
    const credentials = new ChartCredentials("chart-credentials", {
        namespace, releaseName: RELEASE_NAME, brokerHost: BROKER_NAME,
    });
    const { registry } = settings;
    const pullSecret = registry.private && registry.username && registry.password
        ? new ImagePullSecret("image-pull-secret", {
            namespace, server: registry.server, username: registry.username, password: registry.password,
        })
        : undefined;

    // 5. The Celery broker, with its password from the credentials Secret.
    const broker = new RabbitMqBroker("rabbitmq", {
        namespace, name: BROKER_NAME, username: RABBITMQ_USER, nodeHostnames: settings.nodeHostnames,
        credentialsSecretName: credentials.rabbitmqSecretName, claimName: dataVolumes.rabbitmqClaimName,
    });

    // 6. Dagster itself, told where everything above is by name only.
    const release = new DagsterRelease("dagster", {
        namespace,
        releaseName: RELEASE_NAME,
        dagsterVersion: settings.dagsterVersion,
        values: pulumi.output({
            dagsterVersion: settings.dagsterVersion,
            nodeHostnames: settings.nodeHostnames,
            finishedJobTtlSeconds: settings.finishedJobTtlSeconds,
            celeryWorkerReplicas: settings.celeryWorkerReplicas,
            ioVolume: { claimName: ioVolume.claimName, mountPath: settings.ioVolume.mountPath },
            codeLocations: settings.codeLocations.map((location, i) => ({
                name: location.name, module: location.module, attribute: location.attribute, port: location.port,
                repository: images[i].repository, digest: images[i].digest,
            })),
            envSecretNames: envSecrets.names,
            imagePullSecretNames: pullSecret ? [pullSecret.name] : [],
            postgresql: { secretName: credentials.postgresqlSecretName, claimName: dataVolumes.postgresqlClaimName },
            celeryConfigSecretName: credentials.celeryConfigSecretName,
        }),
        dependsOn: [ioVolume, dataVolumes, envSecrets, credentials, broker, ...(pullSecret ? [pullSecret] : [])],
    });

    return {
        namespace,
        releaseName: release.releaseName,
        chartVersion: release.chartVersion,
        webserverService: release.webserverService,
        portForwardCommand: pulumi.interpolate
            `kubectl -n ${namespace} port-forward svc/${release.webserverService} ${WEBSERVER_LOCAL_PORT}:80`,
        codeLocationImages: Object.fromEntries(
            settings.codeLocations.map((location, i) => [location.name, images[i].pinnedReference])),
        releaseValues: release.values,
    };
}
