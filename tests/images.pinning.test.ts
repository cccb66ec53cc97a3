// Third-party images pinned by digest through the `images` setting: every pod the program or the
// chart runs from them names the digest, and a bad value's fix is a command the shell keeps whole.
import * as assert from "assert";
import { parse } from "shell-quote";
import { ConfigError } from "../src/settings/load";
import { DEFAULT_IMAGES } from "../src/components/parts/images";
import { one, ofType, releaseValuesOf, runProgram, T, unwrap } from "./harness/mockProgram";
import { KDE04_SECRETS, DAGSTER } from "./fixtures";

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const PINNED = {
    postgresql: `${DEFAULT_IMAGES.postgresql}@${digest("1")}`,
    rabbitmq: `${DEFAULT_IMAGES.rabbitmq}@${digest("2")}`,
    busybox: `${DEFAULT_IMAGES.busybox}@${digest("3")}`,
    chartWait: `${DEFAULT_IMAGES.chartWait}@${digest("4")}`,
    dagster: `docker.io/dagster/dagster-celery-k8s:${DAGSTER}@${digest("5")}`,
};

describe("images pinned by digest", () => {
    it("runs every third-party image of the program and the chart by its digest", async () => {
        const run = await runProgram({ overrides: { ...KDE04_SECRETS, images: { value: PINNED } } });
        assert.strictEqual(run.error, undefined, String(run.error));
        const image = (type: string, name: string, spec: (o: any) => any) => spec(unwrap(one(run, type, name).inputs));
        assert.strictEqual(image(T.statefulSet, "postgresql", (o) => o.spec.template.spec.containers[0].image), PINNED.postgresql);
        assert.strictEqual(image(T.statefulSet, "rabbitmq", (o) => o.spec.template.spec.containers[0].image), PINNED.rabbitmq);
        const cron = (name: string) => image(T.cronJob, name, (o) => o.spec.jobTemplate.spec.template.spec.containers[0].image);
        assert.strictEqual(cron("database-backups"), PINNED.postgresql);
        assert.strictEqual(cron("compute-log-pruning"), PINNED.busybox);
        const migration = unwrap(one(run, T.job, "instance-migration").inputs) as any;
        assert.strictEqual(migration.spec.template.spec.initContainers[0].image, PINNED.postgresql);
        assert.strictEqual(migration.spec.template.spec.containers[0].image, PINNED.dagster);
        const values = releaseValuesOf(run) as any;
        for (const component of [values.dagsterWebserver, values.dagsterDaemon, values.runLauncher.config.celeryK8sRunLauncher]) {
            assert.deepStrictEqual(component.image, { repository: "docker.io/dagster/dagster-celery-k8s", tag: DAGSTER,
                pullPolicy: "IfNotPresent", digest: digest("5") });
        }
        // Templates that print `repository:tag` pull by digest with it on the tag.
        assert.strictEqual(`${values.busybox.image.repository}:${values.busybox.image.tag}`, PINNED.chartWait);
        const pg = values.postgresql.image;
        assert.strictEqual(`${pg.registry}/${pg.repository}:${pg.tag}`, PINNED.postgresql);
    });

    it("keeps every image by tag when nothing is pinned", async () => {
        const run = await runProgram({ overrides: KDE04_SECRETS });
        const images = ofType(run, T.statefulSet).map((r) => (unwrap(r.inputs) as any).spec.template.spec.containers[0].image);
        assert.deepStrictEqual(images.sort(), [DEFAULT_IMAGES.postgresql, DEFAULT_IMAGES.rabbitmq]);
        assert.ok(!("digest" in (releaseValuesOf(run) as any).dagsterWebserver.image));
    });

    it("shows the pinned form, and prints a fix that prompts for the digest only the registry knows", async () => {
        const run = await runProgram({ overrides: { ...KDE04_SECRETS, images: { value: { postgresql: "docker.io/library/postgres:17.6" } } } });
        assert.ok(run.error instanceof ConfigError);
        const problem = run.error.problems.find((p) => p.key === "images.postgresql")!;
        assert.match(problem.problem, /, e\.g\. docker\.io\/library\/postgres:17\.6@sha256:<digest>$/);
        assert.deepStrictEqual(parse(problem.fix), ["pulumi", "config", "set", "--path", "images.postgresql"]);
    });
});
