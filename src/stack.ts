// The deployment's table of contents: from validated settings to a running Dagster.
import * as fs from "fs";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PUBLISHED_CHART_KUBE_VERSION } from "./chart/source";
import { NamedObjects, ObservedObject } from "./guards/clusterOwnership";
import { ClusterNeeds } from "./guards/clusterPreflight";
import { Settings } from "./settings/types";
import { ComputeLogPruning } from "./components/computeLogPruning";
import { CeleryWorkerShutdown } from "./components/celeryWorkerShutdown";
import { ChartCredentials, credentialsSecretNames, RABBITMQ_USER } from "./components/credentials";
import { DagsterRelease } from "./components/dagsterRelease";
import { DatabaseBackups } from "./components/databaseBackups";
import { DataVolumes } from "./components/dataVolumes";
import { EnvSecrets } from "./components/envSecrets";
import { ImagePullSecret } from "./components/imagePullSecret";
import { InstanceMigration } from "./components/instanceMigration";
import { IoVolume } from "./components/ioVolume";
import { podRoles, ProgramPodNames } from "./components/parts/networkAccess";
import { NetworkIsolation } from "./components/networkIsolation";
import { POD_SECURITY_LABELS } from "./components/parts/podSecurity";
import { PostgreSqlServer } from "./components/postgresql";
import { RabbitMqBroker } from "./components/rabbitmq";
import { NAMESPACE_DEFAULT } from "./components/parts/computeSizes";
import { StackInstance } from "./components/stackInstance";
import { POSTGRESQL_DATABASE, POSTGRESQL_USER } from "./chart/instanceStorage";
import { UserCodeImage } from "./components/userCodeImage";
import { CELERY_QUEUE, computeLogsDir } from "./chart/values";

/** The Helm release name; the chart derives every object name from it. */
export const RELEASE_NAME = "dagster";
/** The IO volume and its claim, named as in the manual deployment so its data is adopted. */
export const IO_VOLUME_NAME = "imqcam-dagster-io-data";
/**
 * The run history's claim. Not `data-dagster-postgresql-0`, the manual deployment's: that data
 * was created with other credentials, which the postgres image never changes (the takeover
 * restores its history into this one instead).
 */
export const POSTGRESQL_CLAIM_NAME = `${RELEASE_NAME}-postgresql-data`;
/** The database's StatefulSet and Service, where every Dagster pod's storage points. */
export const POSTGRESQL_NAME = `${RELEASE_NAME}-postgresql`;
export const RABBITMQ_CLAIM_NAME = `${RELEASE_NAME}-rabbitmq-data`;
/** The broker's Service, where Celery's broker URL points. */
export const BROKER_NAME = `${RELEASE_NAME}-rabbitmq`;
const WEBSERVER_LOCAL_PORT = 9000;
/** The backup that runs in the PostgreSQL image, for scheduled backups and before migrations. */
const BACKUP_SCRIPT = fs.readFileSync(path.join(__dirname, "..", "database", "backup.sh"), "utf8");

export interface StackOutputs {
    namespace: pulumi.Output<string>;
    releaseName: pulumi.Output<string>;
    chartVersion: pulumi.Output<string>;
    webserverService: string;
    portForwardCommand: pulumi.Output<string>;
    codeLocationImages: Record<string, pulumi.Output<string>>;
    releaseValues: pulumi.Output<Record<string, unknown>>;
    stackInstance: pulumi.Output<string>;
}

/** What the program creates by fixed name, which the cluster must not already hold unless it made it. */
export function namedObjects(settings: Settings): NamedObjects {
    return {
        namespace: settings.namespace, ioVolume: IO_VOLUME_NAME, ioClaim: IO_VOLUME_NAME,
        dataClaims: [POSTGRESQL_CLAIM_NAME, RABBITMQ_CLAIM_NAME], releaseName: RELEASE_NAME,
        credentialsSecrets: credentialsSecretNames(RELEASE_NAME),
    };
}

/** What the cluster must have for this stack: its nodes, StorageClasses and Kubernetes version. */
export function clusterNeeds(settings: Settings): ClusterNeeds {
    const { chart } = settings;
    return {
        namespace: settings.namespace, nodeHostnames: settings.nodeHostnames,
        dataVolumes: {
            postgresqlVolume: { ...settings.postgresqlVolume, claimName: POSTGRESQL_CLAIM_NAME },
            rabbitmqVolume: { ...settings.rabbitmqVolume, claimName: RABBITMQ_CLAIM_NAME },
        },
        chartKubeVersion: chart.kind === "local"
            ? { range: chart.kubeVersion ?? "*", source: `the chart ${chart.path}` }
            : { range: PUBLISHED_CHART_KUBE_VERSION, source: `the Dagster chart ${settings.dagsterVersion}` },
    };
}

/** The names of the program's own pods' objects, which NetworkPolicies select them by. */
export function stackPodNames(): ProgramPodNames {
    return {
        postgresql: POSTGRESQL_NAME, rabbitmq: BROKER_NAME,
        databaseBackups: `${POSTGRESQL_NAME}-backup`, computeLogPruning: `${RELEASE_NAME}-compute-log-pruning`,
    };
}

/** `imqcam-dagster/kde04`: marks the objects this stack created, for src/guards/clusterOwnership.ts. */
export function stackOwner(): string {
    return `${pulumi.getProject()}/${pulumi.getStack()}`;
}

/** `observed`: what the cluster holds of namedObjects (src/guards/clusterOwnership.ts); nothing when not read. */
export function deployDagster(settings: Settings, observed: ObservedObject[] = []): StackOutputs {
    // The mark of this stack instance, checked against what the cluster holds before any marked
    // object is written; the namespace carries it, so every namespaced object waits for it too.
    const instance = new StackInstance("stack-instance", { expected: namedObjects(settings), owner: stackOwner(), observed });
    const owned = instance.annotations;
    // 1. The user-code images. The Release waits for their digests, so a broken build stops
    //    the upgrade before any pod is told to run it.
    const images = settings.codeLocations.map((location) => new UserCodeImage(location.name, {
        location, dagsterVersion: settings.dagsterVersion, registry: settings.registry,
    }));

    // 2. The namespace. Protected: deleting it would delete every claim in it, data included.
    const namespace = new k8s.core.v1.Namespace("namespace", {
        metadata: { name: settings.namespace, annotations: owned, labels: POD_SECURITY_LABELS },
    }, { protect: true }).metadata.name;
    // Requests and limits for any container that names none (the chart's init containers).
    new k8s.core.v1.LimitRange("namespace-defaults", {
        metadata: { name: "container-defaults", namespace },
        spec: { limits: [{ type: "Container", defaultRequest: NAMESPACE_DEFAULT.requests, default: NAMESPACE_DEFAULT.limits }] },
    });

    // Who may talk to whom: nothing from outside the namespace, inside it only what each pod uses.
    const isolation = new NetworkIsolation("network-isolation", {
        namespace, roles: podRoles(RELEASE_NAME, stackPodNames()), access: settings.network,
        codeServerPorts: settings.codeLocations.map((location) => location.port),
    });

    // 3. Storage that outlives the release: the IO volume, the database's and the broker's data.
    const ioVolume = new IoVolume("io-volume", {
        namespace, name: IO_VOLUME_NAME, volume: settings.ioVolume, annotations: owned,
    });
    const dataVolumes = new DataVolumes("data-volumes", {
        namespace, annotations: owned,
        postgresql: { name: POSTGRESQL_CLAIM_NAME, settings: settings.postgresqlVolume },
        rabbitmq: { name: RABBITMQ_CLAIM_NAME, settings: settings.rabbitmqVolume },
    });

    // 4. Secrets: the user's, the chart's generated credentials, and registry pull access.
    const envSecrets = new EnvSecrets("env-secrets", { namespace, namePrefix: RELEASE_NAME, secrets: settings.envSecrets });
    const credentials = new ChartCredentials("chart-credentials", {
        namespace, releaseName: RELEASE_NAME, brokerHost: BROKER_NAME, annotations: owned,
        rotation: settings.passwordRotation,
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
        image: settings.images.rabbitmq, rotation: settings.passwordRotation.rabbitmq,
    });

    // 6. The run history's database, its scheduled backups, and the migration of its schema to
    //    this Dagster version (after a fresh backup), which must succeed before the release moves.
    const postgresql = new PostgreSqlServer("postgresql", {
        namespace, name: POSTGRESQL_NAME, user: POSTGRESQL_USER, database: POSTGRESQL_DATABASE,
        credentialsSecretName: credentials.postgresqlSecretName, claimName: dataVolumes.postgresqlClaimName,
        nodeHostnames: settings.nodeHostnames, image: settings.images.postgresql,
        rotation: settings.passwordRotation.postgresql,
    });
    const backupTarget = {
        script: BACKUP_SCRIPT, host: postgresql.serviceName, user: POSTGRESQL_USER, database: POSTGRESQL_DATABASE,
        credentialsSecretName: credentials.postgresqlSecretName, ioClaimName: ioVolume.claimName,
        ioMountPath: settings.ioVolume.mountPath, nodeHostnames: settings.nodeHostnames,
        image: settings.images.postgresql, ioWriter: settings.ioVolume.writer,
    };
    new DatabaseBackups("database-backups", {
        namespace, name: stackPodNames().databaseBackups, target: backupTarget, ...settings.backups,
    });
    // Waits for the database to be ready (the StatefulSet's readiness), and for its Job to finish.
    const migration = new InstanceMigration("instance-migration", {
        namespace, dagsterVersion: settings.dagsterVersion, dagsterDigest: settings.images.dagsterDigest,
        target: backupTarget,
        instanceConfigMapName: `${RELEASE_NAME}-storage-instance`, waitFor: [postgresql.statefulSet],
    });

    // 7. Every run's and step's stdout/stderr, kept on the IO volume for the webserver, pruned daily.
    new ComputeLogPruning("compute-log-pruning", {
        namespace, name: stackPodNames().computeLogPruning, ioClaimName: ioVolume.claimName,
        ioMountPath: settings.ioVolume.mountPath, logDir: computeLogsDir(settings.ioVolume.mountPath),
        keepDays: settings.computeLogRetentionDays, nodeHostnames: settings.nodeHostnames,
        image: settings.images.busybox, ioWriter: settings.ioVolume.writer,
    });

    // 8. Dagster itself, told where everything above is by name only.
    const release = new DagsterRelease("dagster", {
        namespace,
        releaseName: RELEASE_NAME,
        dagsterVersion: settings.dagsterVersion,
        chart: settings.chart,
        values: pulumi.output({
            dagsterVersion: settings.dagsterVersion,
            nodeHostnames: settings.nodeHostnames,
            finishedJobTtlSeconds: settings.finishedJobTtlSeconds,
            celeryWorkerReplicas: settings.celeryWorkerReplicas,
            stepsPerCeleryWorker: settings.stepsPerCeleryWorker,
            maxConcurrentRuns: settings.maxConcurrentRuns,
            runPodResources: settings.runPodResources,
            stepPodResources: settings.stepPodResources,
            ioVolume: { claimName: ioVolume.claimName, mountPath: settings.ioVolume.mountPath, writer: settings.ioVolume.writer },
            codeLocations: settings.codeLocations.map((location, i) => ({
                name: location.name, module: location.module, attribute: location.attribute, port: location.port,
                repository: images[i].repository, digest: images[i].digest,
            })),
            envSecretNames: envSecrets.names,
            envSecretsVersion: envSecrets.version,
            imagePullSecretNames: pullSecret ? [pullSecret.name] : [],
            postgresql: { secretName: credentials.postgresqlSecretName, host: postgresql.serviceName },
            celeryConfigSecretName: credentials.celeryConfigSecretName,
            images: settings.images,
            passwordRotation: settings.passwordRotation,
        }),
        // The migration first: no pod of a new version starts on a schema it has not migrated. The
        // servers first: a rotated password is in them before a Dagster pod that uses it starts.
        dependsOn: [isolation, ioVolume, envSecrets, credentials, broker, postgresql, migration,
            ...(pullSecret ? [pullSecret] : [])],
    });

    // 9. Celery workers that, when a change restarts them, finish the steps they watch first.
    new CeleryWorkerShutdown("celery-worker-shutdown", {
        namespace, deploymentNames: [`${RELEASE_NAME}-celery-workers-${CELERY_QUEUE}`], release,
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
        stackInstance: instance.instanceId,
    };
}
