// Operating the deployment: teardown and redeploy without losing data, upgrades, pinning.
import * as assert from "assert";
import { Override } from "../scripts/stackConfig";
import { inputChanges as changes, one, ofType, releaseValuesOf as values, Run, runProgram, T, unwrap } from "./harness/mockProgram";
import { codeLocationLockedFor, KDE04_SECRETS, ROTATED_ENV_SECRETS, DAGSTER, NEXT_DAGSTER } from "./fixtures";

const kde04 = (overrides: Record<string, Override> = {}) => runProgram({ overrides: { ...KDE04_SECRETS, ...overrides } });

describe("operations", () => {
    it("keeps everything that holds data or opens it protected, and nothing that runs", async () => {
        const run = await kde04();
        const protectedOnes = run.resources.filter((r) => r.protect).map((r) => `${r.type} ${r.name}`).sort();
        assert.deepStrictEqual(protectedOnes, [
            `${T.namespace} namespace`,
            `${T.pv} io-volume`,
            `${T.pvc} data-volumes-postgresql`,
            `${T.pvc} data-volumes-rabbitmq`,
            `${T.pvc} io-volume`,
            `${T.password} chart-credentials-postgresql-password`,
            `${T.password} chart-credentials-rabbitmq-password`,
            // The id the kept objects are marked with belongs to the same state as the passwords.
            `${T.uuid} stack-instance-id`,
        ].sort());
    });

    it("redeploys with the same claim names and the database password it was created with", async () => {
        const first = await kde04();
        const again = await kde04();
        const claims = (run: Run) => ofType(run, T.pvc).map((c) => (c.inputs.metadata as any).name).sort();
        assert.deepStrictEqual(claims(first), ["dagster-postgresql-data", "dagster-rabbitmq-data", "imqcam-dagster-io-data"]);
        assert.deepStrictEqual(claims(again), claims(first));
        // The password the database reads is the protected generated value itself, which
        // `destroy --exclude-protected` keeps in state: nothing derives it from run-time input.
        const password = one(first, T.password, "chart-credentials-postgresql-password");
        assert.deepStrictEqual(unwrap(password.inputs), { length: 32, special: false });
        const secret = unwrap(one(first, T.secret, "chart-credentials-postgresql-credentials").inputs.stringData) as any;
        assert.ok(first.secretValues.includes(secret["postgresql-password"]));
        assert.ok(one(first, T.secret, "chart-credentials-postgresql-credentials").dependencies.includes(password.urn));
        assert.deepStrictEqual(changes(first, again), []);
    });

    it("refuses to replace the NFS volume silently: the change lands on a protected, replace-only field", async () => {
        const before = await kde04();
        const after = await kde04({ ioVolume: { value: { nfs: { server: "other-fs", path: "/srv/vc_crypt/IMQCAM/dagster_filesystem_io" } } } });
        assert.deepStrictEqual(changes(before, after), [`${T.pv} io-volume.spec.nfs.server`]);
        // spec.nfs is replace-only for a PersistentVolume; the engine refuses to replace a protected resource.
        assert.ok(one(after, T.pv).protect);
    });

    it("refuses to replace a data claim silently when its storage class changes", async () => {
        const before = await kde04();
        const after = await kde04({ postgresqlVolume: { value: { storageClass: "fast-ssd", size: "100Gi" } } });
        assert.deepStrictEqual(changes(before, after), [`${T.pvc} data-volumes-postgresql.spec.storageClassName`]);
        assert.ok(one(after, T.pvc, "data-volumes-postgresql").protect);
    });

    it("upgrades chart, Celery workers and user code together when dagsterVersion changes", async () => {
        // The user first runs `npm run lock` for the new version, which rewrites the lock.
        const before = await kde04(codeLocationLockedFor(DAGSTER));
        const after = await kde04({ ...codeLocationLockedFor(NEXT_DAGSTER), dagsterVersion: { value: NEXT_DAGSTER } });
        const changed = changes(before, after);
        const expected = [
            `${T.image} imqcam-example-1.imageName`,
            `${T.image} imqcam-example-1.build.args.DAGSTER_VERSION`,
            `${T.release} dagster.version`,
            `${T.release} dagster.values.dagsterWebserver.image.tag`,
            `${T.release} dagster.values.dagsterDaemon.image.tag`,
            `${T.release} dagster.values.runLauncher.config.celeryK8sRunLauncher.image.tag`,
            `${T.release} dagster.values.dagster-user-deployments.deployments.0.image.digest`,
            // A new migration Job, after its own backup, in the new version's image.
            `${T.job} instance-migration.metadata.name`,
            `${T.job} instance-migration.metadata.labels.app.kubernetes.io/version`,
            `${T.job} instance-migration.spec.template.spec.containers.0.image`,
            `${T.job} instance-migration.spec.template.spec.initContainers.0.env.6.value`,
        ];
        assert.deepStrictEqual(changed.sort(), expected.sort());
        assert.strictEqual(values(after).dagsterWebserver.image.tag, NEXT_DAGSTER);
        assert.strictEqual((unwrap(one(after, T.image).inputs) as any).build.args.DAGSTER_VERSION, NEXT_DAGSTER);
    });

    it("restarts only the code servers when an envSecrets value is rotated", async () => {
        const before = await kde04();
        const after = await kde04({ envSecrets: { value: ROTATED_ENV_SECRETS, secret: true } });
        // In the values, only the code server's annotation: the chart rolls a code server when its
        // entry changes, and everything else (the instance's env_secrets, the Secret names) stays.
        assert.deepStrictEqual(changes(before, after).filter((c) => c.startsWith(T.release)), [
            `${T.release} dagster.values.dagster-user-deployments.deployments.0.annotations.imqcam-dagster/env-secrets-version`,
        ]);
        const names = (run: Run) => values(run).runLauncher.config.celeryK8sRunLauncher.envSecrets;
        assert.deepStrictEqual(names(after), names(before));
        const version = (run: Run) => values(run)["dagster-user-deployments"].deployments[0].annotations;
        assert.notDeepStrictEqual(version(after), version(before));
        assert.ok(!JSON.stringify(values(after)).includes("rotated-4c1d"), "no secret value in the values");
    });

    it("pins every component and every Job to several nodes with node affinity", async () => {
        const run = await kde04({ nodeHostname: { value: ["kde04.idies.jhu.edu", "kde05.idies.jhu.edu"] } });
        const v = values(run);
        const nodes = ["kde04.idies.jhu.edu", "kde05.idies.jhu.edu"];
        for (const target of [v.dagsterWebserver, v.dagsterDaemon, v["dagster-user-deployments"].deployments[0],
            v.runLauncher.config.celeryK8sRunLauncher,
            (unwrap(one(run, T.statefulSet, "rabbitmq").inputs) as any).spec.template.spec,
            (unwrap(one(run, T.statefulSet, "postgresql").inputs) as any).spec.template.spec,
            (unwrap(one(run, T.job).inputs) as any).spec.template.spec,
            (unwrap(one(run, T.cronJob, "database-backups").inputs) as any).spec.jobTemplate.spec.template.spec,
            (unwrap(one(run, T.cronJob, "compute-log-pruning").inputs) as any).spec.jobTemplate.spec.template.spec]) {
            assert.deepStrictEqual(target.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution
                .nodeSelectorTerms[0].matchExpressions[0].values, nodes);
            assert.strictEqual(target.nodeSelector, undefined);
        }
        const env = v["dagster-user-deployments"].deployments[0].env.find((e: any) => e.name === "IMQCAM_K8S_JOB_CONFIG");
        assert.deepStrictEqual(JSON.parse(env.value).pod_spec_config.affinity.node_affinity
            .required_during_scheduling_ignored_during_execution.node_selector_terms[0].match_expressions[0].values, nodes);
    });

    it("gives every run and step Job the configured finished-Job TTL", async () => {
        const run = await kde04({ finishedJobTtlSeconds: { value: "7200" } });
        const v = values(run);
        const codeServer = v["dagster-user-deployments"].deployments[0].env.find((e: any) => e.name === "IMQCAM_K8S_JOB_CONFIG");
        for (const json of [codeServer.value, v.runLauncher.config.celeryK8sRunLauncher.env.IMQCAM_K8S_JOB_CONFIG]) {
            assert.deepStrictEqual(JSON.parse(json).job_spec_config, { ttl_seconds_after_finished: 7200 });
        }
    });
});
