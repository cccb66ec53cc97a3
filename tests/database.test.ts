// The run history's database, its backups and its migrations, for the production stack under mocks.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { one, releaseValuesOf, Run, runProgram, T, unwrap } from "./harness/mockProgram";
import { REPO_ROOT } from "../scripts/stackConfig";
import { KDE04_SECRETS, DAGSTER, NEXT_DAGSTER } from "./fixtures";

const kde04 = (overrides = {}) => runProgram({ overrides: { ...KDE04_SECRETS, ...overrides } });
const podOf = (r: { inputs: Record<string, unknown> }) => (unwrap(r.inputs) as any).spec.template.spec;
const envOf = (container: any) => Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
const PASSWORD_REF = { secretKeyRef: { name: "dagster-postgresql-credentials", key: "postgresql-password" } };

describe("kde04's run history", () => {
    let run: Run;
    before(async () => {
        run = await kde04();
        if (run.error) throw run.error;
    });

    describe("the run history's database", () => {

        it("runs the official PostgreSQL image with the generated password, on its own protected claim", () => {
            const statefulSet = unwrap(one(run, T.statefulSet, "postgresql").inputs) as any;
            assert.strictEqual(statefulSet.metadata.name, "dagster-postgresql");
            const [container] = podOf(one(run, T.statefulSet, "postgresql")).containers;
            assert.match(container.image, /^docker\.io\/library\/postgres:\d+\.\d+$/);
            assert.deepStrictEqual(envOf(container), {
                POSTGRES_USER: "dagster", POSTGRES_DB: "dagster", POSTGRES_PASSWORD: PASSWORD_REF,
                PGDATA: "/var/lib/postgresql/data/pgdata",
            });
            const [volume] = podOf(one(run, T.statefulSet, "postgresql")).volumes;
            assert.strictEqual(volume.persistentVolumeClaim.claimName, "dagster-postgresql-data");
            assert.ok(one(run, T.pvc, "data-volumes-postgresql").protect);
            assert.ok(container.readinessProbe.exec.command.join(" ").includes("pg_isready"));
        });

        it("is where every Dagster pod's storage points, with the chart's own PostgreSQL off", () => {
            const v = releaseValuesOf(run) as any;
            const service = unwrap(one(run, T.service, "postgresql").inputs) as any;
            assert.strictEqual(v.postgresql.enabled, false);
            assert.strictEqual(v.postgresql.postgresqlHost, service.metadata.name);
            assert.deepStrictEqual(service.spec.ports.map((p: any) => p.port), [v.postgresql.service.port]);
        });

        it("is backed up on a schedule to the NFS share by database/backup.sh, the oldest pruned", () => {
            const cronJob = unwrap(one(run, T.cronJob, "database-backups").inputs) as any;
            assert.strictEqual(cronJob.spec.schedule, "30 2 * * *");
            assert.strictEqual(cronJob.spec.concurrencyPolicy, "Forbid");
            const pod = cronJob.spec.jobTemplate.spec.template.spec;
            const [container] = pod.containers;
            assert.deepStrictEqual(container.command,
                ["sh", "-c", fs.readFileSync(path.join(REPO_ROOT, "database/backup.sh"), "utf8")]);
            assert.deepStrictEqual(envOf(container), {
                PGHOST: "dagster-postgresql", POSTGRES_USER: "dagster", POSTGRES_DB: "dagster", POSTGRES_PASSWORD: PASSWORD_REF,
                BACKUP_ROOT: "/tmp/imqcam_filesystem_io_data",
                BACKUP_DIR: "/tmp/imqcam_filesystem_io_data/backups/postgresql",
                BACKUP_NAME: "scheduled", BACKUP_KEEP: "14",
            });
            assert.deepStrictEqual(pod.volumes, [{ name: "io-data", persistentVolumeClaim: { claimName: "imqcam-dagster-io-data" } }]);
            assert.deepStrictEqual(container.volumeMounts, [{ name: "io-data", mountPath: "/tmp/imqcam_filesystem_io_data" }]);
        });

        it("takes the backup schedule and how many to keep from config", async () => {
            const other = await kde04({ backups: { value: { schedule: "@hourly", keep: 48 } } });
            const cronJob = unwrap(one(other, T.cronJob, "database-backups").inputs) as any;
            assert.strictEqual(cronJob.spec.schedule, "@hourly");
            assert.strictEqual(envOf(cronJob.spec.jobTemplate.spec.template.spec.containers[0]).BACKUP_KEEP, "48");
        });
    });

    describe("the migration of the run history to each Dagster version", () => {

        it("runs `dagster instance migrate` of the stack's version in a Job named by that version", () => {
            const job = unwrap(one(run, T.job).inputs) as any;
            assert.strictEqual(job.metadata.name, `dagster-migrate-${DAGSTER.replace(/\./g, "-")}`);
            assert.strictEqual(job.spec.backoffLimit, 0, "a failed migration is not retried");
            const [migrate] = job.spec.template.spec.containers;
            assert.strictEqual(migrate.image, `docker.io/dagster/dagster-celery-k8s:${DAGSTER}`);
            assert.deepStrictEqual(migrate.command, ["dagster", "instance", "migrate"]);
            assert.deepStrictEqual(envOf(migrate), { DAGSTER_HOME: "/opt/dagster/instance", DAGSTER_PG_PASSWORD: PASSWORD_REF });
        });

        it("backs up the database to the NFS share first, in an init container", () => {
            const pod = podOf(one(run, T.job));
            assert.deepStrictEqual(pod.initContainers.map((c: any) => c.name), ["backup"]);
            const env = envOf(pod.initContainers[0]);
            assert.strictEqual(env.BACKUP_NAME, `before-dagster-${DAGSTER}`);
            assert.strictEqual(env.BACKUP_DIR, "/tmp/imqcam_filesystem_io_data/backups/postgresql");
        });

        it("reads the same storage as the chart's pods: the program's PostgreSQL with the psycopg2 driver", () => {
            const configMap = unwrap(one(run, T.configMap, "instance-migration-instance").inputs) as any;
            const instance = yaml.load(configMap.data["dagster.yaml"]) as any;
            const v = releaseValuesOf(run) as any;
            for (const storage of ["run_storage", "event_log_storage", "schedule_storage"]) {
                assert.deepStrictEqual(instance[storage].config.postgres_db, {
                    username: v.postgresql.postgresqlUsername, password: { env: "DAGSTER_PG_PASSWORD" },
                    hostname: v.postgresql.postgresqlHost, db_name: v.postgresql.postgresqlDatabase,
                    port: v.postgresql.service.port, params: {}, scheme: v.postgresql.postgresqlScheme,
                }, storage);
            }
            const pod = podOf(one(run, T.job));
            assert.deepStrictEqual(pod.volumes.find((vol: any) => vol.name === "instance").configMap.name, configMap.metadata.name);
        });

        it("runs after the database is ready, and the release only after it", () => {
            const job = one(run, T.job);
            assert.ok(job.dependencies.includes(one(run, T.statefulSet, "postgresql").urn), "waits for PostgreSQL");
            assert.ok(one(run, T.release).dependencies.includes(job.urn), "the release waits for the migration");
        });

        it("runs a new Job, after a new backup, when dagsterVersion changes", async () => {
            const { codeLocationLockedFor } = await import("./fixtures");
            const upgraded = await kde04({ ...codeLocationLockedFor(NEXT_DAGSTER), dagsterVersion: { value: NEXT_DAGSTER } });
            const job = unwrap(one(upgraded, T.job).inputs) as any;
            assert.strictEqual(job.metadata.name, `dagster-migrate-${NEXT_DAGSTER.replace(/\./g, "-")}`);
            assert.strictEqual(job.spec.template.spec.containers[0].image, `docker.io/dagster/dagster-celery-k8s:${NEXT_DAGSTER}`);
            assert.strictEqual(envOf(job.spec.template.spec.initContainers[0]).BACKUP_NAME, `before-dagster-${NEXT_DAGSTER}`);
        });
    });
});
