// The whole program for the production stack, under mocks: what would reach the engine.
import * as assert from "assert";
import { one, ofType, promiseOf, releaseValuesOf, Run, runProgram, STACK_INSTANCE, T, unwrap, isSecretValue } from "./harness/mockProgram";
import { KDE04_SECRETS, DAGSTER } from "./fixtures";

const KDE04 = "kde04.idies.jhu.edu";
const NAMESPACE = "imqcam-dagster";

describe("kde04 stack under mocks", () => {
    let run: Run;
    before(async () => {
        run = await runProgram({ stack: "kde04", overrides: KDE04_SECRETS });
        if (run.error) throw run.error;
    });

    const values = () => releaseValuesOf(run);
    const urnOf = (type: string, name: string) => one(run, type, name).urn;

    it("creates exactly the expected resources", () => {
        const kinds = run.resources.filter((r) => !r.type.startsWith("imqcam-dagster:"))
            .map((r) => `${r.type} ${r.name}`).sort();
        assert.deepStrictEqual(kinds, [
            `${T.image} imqcam-example-1`,
            `${T.release} dagster`,
            `${T.namespace} namespace`,
            `${T.limitRange} namespace-defaults`,
            `${T.pv} io-volume`,
            `${T.pvc} data-volumes-postgresql`,
            `${T.pvc} data-volumes-rabbitmq`,
            `${T.pvc} io-volume`,
            `${T.secret} chart-credentials-celery-config`,
            `${T.secret} chart-credentials-postgresql-credentials`,
            `${T.secret} chart-credentials-rabbitmq-credentials`,
            `${T.secret} girder-connection-info`,
            `${T.secret} globus-compute-creds`,
            `${T.password} chart-credentials-postgresql-password`,
            `${T.password} chart-credentials-rabbitmq-password`,
            `${T.uuid} stack-instance-id`,
            `${T.service} postgresql`,
            `${T.statefulSet} postgresql`,
            `${T.service} rabbitmq`,
            `${T.statefulSet} rabbitmq`,
            `${T.cronJob} database-backups`,
            `${T.cronJob} compute-log-pruning`,
            `${T.configMap} instance-migration-instance`,
            `${T.configMap} rabbitmq-config`,
            `${T.job} instance-migration`,
            `kubernetes:apps/v1:DeploymentPatch celery-worker-shutdown-dagster-celery-workers-dagster`,
            ...["deny-all", "dns", "postgresql-clients", "rabbitmq-clients", "code-servers-clients",
                "webserver-egress", "daemon-egress", "code-servers-egress", "celery-workers-egress", "run-pods-egress",
                "step-pods-egress", "instance-migration-egress", "database-backups-egress"]
                .map((policy) => `${T.networkPolicy} network-isolation-${policy}`),
        ].sort());
    });

    it("puts every namespaced object in the configured namespace", () => {
        assert.strictEqual((one(run, T.namespace).inputs.metadata as any).name, NAMESPACE);
        const namespaced = run.resources.filter((r) =>
            [T.pvc, T.secret, T.service, T.statefulSet, T.configMap, T.job, T.cronJob, T.networkPolicy].includes(r.type));
        assert.strictEqual(namespaced.length, 30);
        for (const r of namespaced) assert.strictEqual((unwrap(r.inputs) as any).metadata.namespace, NAMESPACE, r.name);
        assert.strictEqual(one(run, T.release).inputs.namespace, NAMESPACE);
    });

    it("makes the NFS volume and a claim bound to it by name, both retained and protected", () => {
        const pv = unwrap(one(run, T.pv).inputs) as any;
        // Marked as this stack instance's, so a later `pulumi up` knows it made them (src/guards/clusterOwnership.ts,
        // src/guards/instanceOwnership.ts).
        assert.deepStrictEqual(pv.metadata, { name: "imqcam-dagster-io-data", annotations: {
            "imqcam-dagster/stack": "imqcam-dagster/kde04", "imqcam-dagster/stack-instance": STACK_INSTANCE } });
        assert.deepStrictEqual(pv.spec, {
            capacity: { storage: "5Gi" },
            accessModes: ["ReadWriteMany"],
            persistentVolumeReclaimPolicy: "Retain",
            storageClassName: "",
            claimRef: { namespace: NAMESPACE, name: "imqcam-dagster-io-data" },
            nfs: { server: "sciserver-fs1", path: "/srv/vc_crypt/IMQCAM/dagster_filesystem_io" },
        });
        const pvc = unwrap(one(run, T.pvc, "io-volume").inputs) as any;
        assert.deepStrictEqual(pvc.spec, {
            accessModes: ["ReadWriteMany"], storageClassName: "", volumeName: "imqcam-dagster-io-data",
            resources: { requests: { storage: "5Gi" } },
        });
        assert.ok(one(run, T.pv).protect && one(run, T.pvc, "io-volume").protect);
    });

    it("keeps the database and broker data on protected claims with fixed names", () => {
        // Not data-dagster-postgresql-0: that is the manual deployment's claim, with other credentials.
        const names: Record<string, string> = { postgresql: "dagster-postgresql-data", rabbitmq: "dagster-rabbitmq-data" };
        for (const service of ["postgresql", "rabbitmq"]) {
            const claim = one(run, T.pvc, `data-volumes-${service}`);
            const inputs = unwrap(claim.inputs) as any;
            assert.strictEqual(inputs.metadata.name, names[service]);
            assert.deepStrictEqual(inputs.spec, {
                accessModes: ["ReadWriteOnce"], storageClassName: "local-storage-kde04",
                resources: { requests: { storage: "100Gi" } },
            });
            assert.strictEqual(inputs.metadata.annotations["pulumi.com/skipAwait"], "true");
            assert.ok(claim.protect, `${service} claim must be protected`);
        }
    });

    it("protects the namespace and the generated credentials, so destroy --exclude-protected keeps them", () => {
        assert.ok(one(run, T.namespace).protect);
        for (const p of ofType(run, T.password)) assert.ok(p.protect, p.name);
        // What runs is not protected: it is what `pulumi destroy` removes.
        assert.ok(!one(run, T.release).protect);
        for (const s of ofType(run, T.secret)) assert.ok(!s.protect, s.name);
    });

    it("turns each envSecrets entry into a Secret of a fixed name whose values stay secret", () => {
        const girder = one(run, T.secret, "girder-connection-info");
        assert.ok(isSecretValue(girder.inputs.stringData), "stringData must be a secret input");
        assert.deepStrictEqual(unwrap(girder.inputs.stringData), {
            GIRDER_API_URL: "https://girder.example/api/v1", GIRDER_API_KEY: "girder-key-91c2",
        });
        // Not the manual deployment's `girder-connection-info`, which the takeover deletes later.
        assert.strictEqual((girder.inputs.metadata as any).name, "dagster-girder-connection-info");
    });

    it("references the credentials Secrets by name, with generated values that are secret", () => {
        const pg = one(run, T.secret, "chart-credentials-postgresql-credentials");
        assert.strictEqual((pg.inputs.metadata as any).name, "dagster-postgresql-credentials");
        assert.ok(isSecretValue(pg.inputs.stringData));
        assert.deepStrictEqual(Object.keys(unwrap(pg.inputs.stringData) as object).sort(),
            ["postgresql-password"]);
        const mq = one(run, T.secret, "chart-credentials-rabbitmq-credentials");
        assert.ok(isSecretValue(mq.inputs.stringData));
        assert.deepStrictEqual(Object.keys(unwrap(mq.inputs.stringData) as object), ["rabbitmq-password"]);
        const celery = unwrap(one(run, T.secret, "chart-credentials-celery-config").inputs.stringData) as any;
        const mqPassword = (unwrap(one(run, T.secret, "chart-credentials-rabbitmq-credentials").inputs.stringData) as any)["rabbitmq-password"];
        assert.strictEqual(celery.DAGSTER_CELERY_BROKER_URL, `pyamqp://dagster:${mqPassword}@dagster-rabbitmq:5672//`);
        assert.strictEqual(celery.DAGSTER_CELERY_BACKEND_URL, "rpc://");
        assert.ok(run.secretValues.some((v) => v === mqPassword), "the broker password is the generated one");
    });

    it("installs the pinned chart atomically, with bounded history and a timeout", () => {
        const r = one(run, T.release).inputs;
        assert.strictEqual(r.name, "dagster");
        assert.strictEqual(r.chart, "dagster");
        assert.strictEqual(r.version, DAGSTER);
        assert.deepStrictEqual(r.repositoryOpts, { repo: "https://dagster-io.github.io/helm" });
        assert.strictEqual(r.atomic, true);
        assert.strictEqual(r.cleanupOnFail, true);
        assert.ok((r.timeout as number) >= 600, "sized for image pulls");
        assert.strictEqual(r.maxHistory, 10);
    });

    it("sends Release values with no secret in them, and not marked secret (readable preview)", () => {
        const release = one(run, T.release);
        assert.ok(!isSecretValue(release.inputs.values), "values must not be secret");
        const text = JSON.stringify(release.inputs);
        assert.strictEqual(run.secretValues.length, 7, "2 generated passwords, the registry password, 4 envSecrets values");
        for (const secret of run.secretValues) assert.ok(!text.includes(secret), `a secret value reached the Release`);
        assert.ok(!/"test"/.test(text), "no chart default password");
    });

    it("makes the Release wait for the Secrets and claims it names only as strings", () => {
        const deps = new Set(one(run, T.release).dependencies);
        for (const [type, name] of [
            [T.secret, "girder-connection-info"], [T.secret, "globus-compute-creds"],
            [T.secret, "chart-credentials-postgresql-credentials"], [T.secret, "chart-credentials-rabbitmq-credentials"],
            [T.secret, "chart-credentials-celery-config"], [T.pvc, "io-volume"],
            [T.statefulSet, "rabbitmq"], [T.service, "rabbitmq"], [T.service, "postgresql"],
            [T.job, "instance-migration"],
        ]) {
            assert.ok(deps.has(urnOf(type, name)), `Release must depend on ${name}`);
        }
    });

    it("parents every resource to its component", () => {
        for (const r of run.resources) {
            // The namespace and its container defaults stand beside the components, as the namespace always has.
            if (r.type.startsWith("imqcam-dagster:") || r.type === T.namespace || r.type === T.limitRange) {
                assert.strictEqual(r.parent, "", r.name);
            }
            else assert.match(r.parent, /imqcam-dagster:index:/, `${r.type} ${r.name} has no component parent`);
        }
    });

    it("pins every long-running component to kde04 with each chart's own key", () => {
        const v = values();
        const selector = { "kubernetes.io/hostname": KDE04 };
        assert.deepStrictEqual(v.dagsterWebserver.nodeSelector, selector);
        assert.deepStrictEqual(v.dagsterDaemon.nodeSelector, selector);
        assert.deepStrictEqual(v["dagster-user-deployments"].deployments[0].nodeSelector, selector);
        assert.deepStrictEqual(v.runLauncher.config.celeryK8sRunLauncher.nodeSelector, selector);
        for (const name of ["rabbitmq", "postgresql"]) {
            const statefulSet = unwrap(one(run, T.statefulSet, name).inputs) as any;
            assert.deepStrictEqual(statefulSet.spec.template.spec.nodeSelector, selector, name);
        }
        for (const name of ["database-backups", "compute-log-pruning"]) {
            const cronJob = unwrap(one(run, T.cronJob, name).inputs) as any;
            assert.deepStrictEqual(cronJob.spec.jobTemplate.spec.template.spec.nodeSelector, selector, name);
        }
        const migration = unwrap(one(run, T.job).inputs) as any;
        assert.deepStrictEqual(migration.spec.template.spec.nodeSelector, selector);
    });

    it("runs the broker from the official image with its password from the credentials Secret", () => {
        const broker = unwrap(one(run, T.statefulSet, "rabbitmq").inputs) as any;
        assert.strictEqual(broker.metadata.name, "dagster-rabbitmq");
        const pod = broker.spec.template.spec;
        const container = pod.containers[0];
        assert.strictEqual(container.image, "docker.io/library/rabbitmq:3.13.7");
        assert.deepStrictEqual(container.env, [
            { name: "RABBITMQ_DEFAULT_USER", value: "dagster" },
            { name: "RABBITMQ_DEFAULT_PASS", valueFrom: { secretKeyRef: { name: "dagster-rabbitmq-credentials", key: "rabbitmq-password" } } },
            { name: "RABBITMQ_ADVANCED_CONFIG_FILE", value: "/etc/rabbitmq/advanced.config" },
        ]);
        // Its configuration file from the program's ConfigMap (tests/broker.test.ts), and scratch
        // folders beside a read-only root (tests/podSecurity.test.ts).
        assert.deepStrictEqual(pod.volumes, [{ name: "data", persistentVolumeClaim: { claimName: "dagster-rabbitmq-data" } },
            { name: "config", configMap: { name: "dagster-rabbitmq-advanced-config" } },
            { name: "tmp", emptyDir: {} }, { name: "log", emptyDir: {} }]);
        assert.deepStrictEqual(container.volumeMounts, [{ name: "data", mountPath: "/var/lib/rabbitmq" },
            { name: "config", mountPath: "/etc/rabbitmq/advanced.config", subPath: "advanced.config", readOnly: true },
            { name: "tmp", mountPath: "/tmp" }, { name: "log", mountPath: "/var/log/rabbitmq" }]);
        assert.strictEqual(broker.spec.replicas, 1);
        // The broker URL's host is this Service.
        const service = unwrap(one(run, T.service, "rabbitmq").inputs) as any;
        assert.strictEqual(service.metadata.name, "dagster-rabbitmq");
        assert.deepStrictEqual(service.spec.ports, [{ name: "amqp", port: 5672, targetPort: "amqp" }]);
        assert.deepStrictEqual(service.spec.selector, broker.spec.template.metadata.labels);
        assert.strictEqual(broker.spec.serviceName, "dagster-rabbitmq");
    });

    it("tells code servers and run/step pods the IO path, and the Job placement, TTL and resources", () => {
        const v = values();
        const jobConfig = (resources: object, token: boolean) => ({
            container_config: { resources, security_context: { allow_privilege_escalation: false, capabilities: { drop: ["ALL"] } } },
            pod_spec_config: { node_selector: { "kubernetes.io/hostname": KDE04 }, automount_service_account_token: token,
                security_context: { seccomp_profile: { type: "RuntimeDefault" },
                    run_as_non_root: true, run_as_user: 10001, run_as_group: 10001 } },
            job_spec_config: { ttl_seconds_after_finished: 3600 },
        });
        const run = jobConfig({ requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "2Gi" } }, true);
        const step = jobConfig({ requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "4Gi" } }, false);
        const env = Object.fromEntries(v["dagster-user-deployments"].deployments[0].env.map((e: any) => [e.name, e.value]));
        const launcherEnv = v.runLauncher.config.celeryK8sRunLauncher.env;
        for (const e of [env, launcherEnv]) {
            assert.strictEqual(e.IMQCAM_IO_MOUNT_PATH, "/tmp/imqcam_filesystem_io_data");
            assert.deepStrictEqual(JSON.parse(e.IMQCAM_K8S_JOB_CONFIG), run);
            assert.deepStrictEqual(JSON.parse(e.IMQCAM_K8S_STEP_CONFIG), step);
        }
    });

    it("outputs the namespace, release, chart version, webserver service and a port-forward command", async () => {
        const o = run.outputs!;
        assert.strictEqual(await promiseOf(o.namespace), NAMESPACE);
        assert.strictEqual(await promiseOf(o.releaseName), "dagster");
        assert.strictEqual(await promiseOf(o.chartVersion), DAGSTER);
        assert.strictEqual(o.webserverService, "dagster-dagster-webserver");
        assert.strictEqual(await promiseOf(o.portForwardCommand),
            "kubectl -n imqcam-dagster port-forward svc/dagster-dagster-webserver 9000:80");
        const image = await promiseOf(o.codeLocationImages["imqcam-example-1"]);
        assert.match(image, /^docker\.io\/openmsi\/testing_k8s_dagster@sha256:[0-9a-f]{64}$/);
    });
});

describe("the images kde04 runs", () => {
    it("are each pinned to an exact version or digest, from an official or maintained repository", async () => {
        const run = await runProgram({ stack: "kde04", overrides: KDE04_SECRETS });
        const found = new Set<string>();
        const walk = (node: any) => {
            if (Array.isArray(node)) node.forEach(walk);
            else if (node && typeof node === "object") {
                if (typeof node.image === "string") found.add(node.image);
                // The chart's image objects: {registry?, repository, tag | digest}.
                if (node.image && typeof node.image === "object" && node.image.repository) {
                    const i = node.image;
                    found.add(`${i.registry ? `${i.registry}/` : ""}${i.repository}${i.digest ? `@${i.digest}` : `:${i.tag}`}`);
                }
                Object.values(node).forEach(walk);
            }
        };
        for (const r of run.resources) if (r.type.startsWith("kubernetes:") && r.type !== T.release) walk(unwrap(r.inputs));
        walk(releaseValuesOf(run));
        const images = [...found].sort();
        assert.deepStrictEqual(images.map((i) => i.replace(/@sha256:[0-9a-f]{64}$/, "@sha256:…")), [
            `docker.io/dagster/dagster-celery-k8s:${DAGSTER}`,
            "docker.io/library/busybox:1.36.1",
            "docker.io/library/postgres:17.6",
            "docker.io/library/rabbitmq:3.13.7",
            "docker.io/openmsi/testing_k8s_dagster@sha256:…",
            "registry.k8s.io/e2e-test-images/glibc-dns-testing:2.0.0",
        ]);
        for (const image of images) {
            assert.match(image, /^(docker\.io\/(library|dagster)|registry\.k8s\.io\/e2e-test-images)\/[a-z0-9-]+:\d+\.\d+(\.\d+)?$|@sha256:[0-9a-f]{64}$/, image);
        }
    });
});
