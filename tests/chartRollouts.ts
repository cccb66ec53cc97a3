// Which of the Dagster chart's Deployments a change of the Release values restarts. A Deployment
// rolls when its pod template changes; the chart's templates put there the values they render
// into it, plus a sha256 of the instance ConfigMap (webserver, daemon and Celery workers), of the
// workspace ConfigMap (webserver and daemon) and, on each code server, of its own entry in
// dagster-user-deployments.deployments. Read off helm/dagster in dagster-io/dagster:
// templates/helpers/_deployment-webserver.tpl, deployment-daemon.yaml, deployment-celery-queues.yaml,
// configmap-instance.yaml with helpers/instance/*.tpl, configmap-workspace.yaml, and
// charts/dagster-user-deployments/templates/deployment-user.yaml. Worker env values go to the
// ConfigMap <release>-celery-worker-env, which no pod template hashes. The chart is in no registry
// the tests reach, so this is a model; it was checked once by hand against `helm template` of those
// templates (an older snapshot than 1.13.27, with the same checksum annotations).

type Values = Record<string, any>;

const pick = (o: Values | undefined, keys: string[]) => Object.fromEntries(keys.map((k) => [k, o?.[k]]));
const omit = (o: Values | undefined, keys: string[]) => Object.fromEntries(Object.entries(o ?? {}).filter(([k]) => !keys.includes(k)));

/** What configmap-instance.yaml renders from (the Celery run launcher, the daemon's settings, storage). */
function instance(v: Values): unknown {
    const celery = v.runLauncher?.config?.celeryK8sRunLauncher;
    return {
        top: pick(v, ["global", "telemetry", "scheduler", "retention", "pythonLogs", "computeLogManager", "additionalInstanceConfig"]),
        runLauncherType: v.runLauncher?.type,
        runLauncher: pick(celery, ["configSource", "envConfigMaps", "envSecrets", "volumeMounts", "volumes", "labels",
            "imagePullPolicy", "failPodOnRunFailure", "jobNamespace"]),
        daemon: pick(v.dagsterDaemon, ["enabled", "runCoordinator", "runMonitoring", "runRetries", "sensors", "schedules"]),
        storage: omit(v.postgresql, ["image", "enabled"]),
    };
}

/** configmap-workspace.yaml: each code server's name and port. */
function workspace(v: Values): unknown {
    return (v["dagster-user-deployments"]?.deployments ?? []).map((d: Values) => [d.name, d.port]);
}

const shared = (v: Values) => ({ pullSecrets: v.imagePullSecrets, waitImages: [v.postgresql?.image, v.busybox] });

/** Each Deployment's pod template inputs, and its replica count, by the Deployment's name. */
export function chartDeployments(v: Values, release = "dagster"): Record<string, { template: unknown; replicas: unknown }> {
    const celery = v.runLauncher?.config?.celeryK8sRunLauncher ?? {};
    const result: Record<string, { template: unknown; replicas: unknown }> = {
        [`${release}-dagster-webserver`]: {
            template: [omit(v.dagsterWebserver, ["replicaCount"]), instance(v), workspace(v), shared(v)],
            replicas: v.dagsterWebserver?.replicaCount ?? 1,
        },
        [`${release}-daemon`]: { template: [v.dagsterDaemon, instance(v), workspace(v), shared(v)], replicas: 1 },
    };
    for (const queue of celery.workerQueues ?? []) {
        result[`${release}-celery-workers-${queue.name}`] = {
            template: [omit(celery, ["workerQueues", "env"]), omit(queue, ["replicaCount"]), instance(v), shared(v)],
            replicas: queue.replicaCount,
        };
    }
    const user = v["dagster-user-deployments"] ?? {};
    for (const d of user.deployments ?? []) {
        result[`${release}-dagster-user-deployments-${d.name}`] = {
            template: [d, user.imagePullSecrets], replicas: d.replicaCount ?? 1,
        };
    }
    return result;
}

/** The Deployments whose pods a change of values restarts, and those it only scales. */
export function rollouts(before: Values, after: Values): { restarted: string[]; scaled: string[] } {
    const a = chartDeployments(before);
    const b = chartDeployments(after);
    const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
    const names = Object.keys(b).filter((n) => n in a).sort();
    return {
        restarted: names.filter((n) => !same(a[n].template, b[n].template)),
        scaled: names.filter((n) => same(a[n].template, b[n].template) && !same(a[n].replicas, b[n].replicas)),
    };
}
