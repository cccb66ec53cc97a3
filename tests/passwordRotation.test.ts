// Rotating the generated passwords (`passwordRotation`, src/components/parts/passwordRotation.ts): the
// password in use, and what a rotation changes; README's "What a change restarts" has the chart's
// side (tests/restarts.test.ts). The hooks run against the real servers on the real node
// (tests/node/test_password_rotation.py).
import * as assert from "assert";
import { Override } from "../scripts/stackConfig";
import { inputChanges as changes, isSecretValue, one, Run, runProgram, T, unwrap } from "./harness/mockProgram";
import { passwordInUse, ROTATION_ANNOTATION } from "../src/components/parts/passwordRotation";
import { KDE04_SECRETS } from "./fixtures";

const kde04 = (overrides: Record<string, Override> = {}) => runProgram({ overrides: { ...KDE04_SECRETS, ...overrides } });
const rotate = (labels: object) => kde04({ passwordRotation: { value: labels } });
const stringData = (run: Run, name: string) => unwrap(one(run, T.secret, name).inputs.stringData) as Record<string, string>;
/** A secret input of the credentials' Secret, and nowhere else in plain text. */
function keptSecret(run: Run, secretName: string, value: string) {
    assert.ok(isSecretValue(one(run, T.secret, secretName).inputs.stringData), `${secretName}'s data is a secret input`);
    const elsewhere = run.resources.filter((r) => !(r.type === T.secret && r.name.startsWith("chart-credentials-")));
    assert.ok(!JSON.stringify(elsewhere.map((r) => unwrap(r.inputs))).includes(value), "the password is nowhere else");
}
const podAnnotations = (run: Run, name: string) =>
    (unwrap(one(run, T.statefulSet, name).inputs) as any).spec.template.metadata.annotations ?? {};
// Where the chart takes pod annotations: new on the webserver, daemon and workers; beside the
// envSecrets one on each code server.
const ANNOTATED = [
    ...["dagsterWebserver", "dagsterDaemon", "runLauncher.config.celeryK8sRunLauncher"].map((at) => `${at}.annotations`),
    `dagster-user-deployments.deployments.0.annotations.${ROTATION_ANNOTATION}`,
].map((at) => `${T.release} dagster.values.${at}`);

describe("password rotation", () => {
    it("uses the generated password until a label is set, then one derived from both, the same every time", () => {
        const generated = "Zq3".repeat(10) + "x7";
        assert.strictEqual(passwordInUse(generated, undefined), generated);
        const rotated = passwordInUse(generated, "2026-12-02");
        assert.match(rotated, /^[0-9a-f]{64}$/, "letters and digits only: it goes into the broker URL");
        assert.strictEqual(passwordInUse(generated, "2026-12-02"), rotated);
        assert.notStrictEqual(passwordInUse(generated, "2027-03-01"), rotated);
        assert.notStrictEqual(passwordInUse(generated.toUpperCase(), "2026-12-02"), rotated);
    });

    it("rotates PostgreSQL's: its Secret, the database's restart, every Dagster pod's, nothing of the broker", async () => {
        const before = await kde04();
        const after = await rotate({ postgresql: "2026-12-02" });
        assert.deepStrictEqual(changes(before, after).sort(), [
            `${T.secret} chart-credentials-postgresql-credentials.stringData.postgresql-password`,
            `${T.statefulSet} postgresql.spec.template.metadata.annotations.${ROTATION_ANNOTATION}`,
            ...ANNOTATED,
        ].sort());
        const [old, now] = [before, after].map((run) => stringData(run, "chart-credentials-postgresql-credentials")["postgresql-password"]);
        assert.strictEqual(now, passwordInUse(old, "2026-12-02"));
        keptSecret(after, "chart-credentials-postgresql-credentials", now);
        assert.deepStrictEqual(podAnnotations(after, "postgresql")[ROTATION_ANNOTATION], "2026-12-02");
        assert.strictEqual(podAnnotations(after, "rabbitmq")[ROTATION_ANNOTATION], undefined);
        // The same label again: nothing changes, so a repeated `pulumi up` restarts nothing.
        assert.deepStrictEqual(changes(after, await rotate({ postgresql: "2026-12-02" })), []);
    });

    it("rotates RabbitMQ's: its Secret and the broker URL, the broker's restart, every Dagster pod's, nothing of the database", async () => {
        const before = await kde04();
        const after = await rotate({ rabbitmq: "2026-12-02" });
        assert.deepStrictEqual(changes(before, after).sort(), [
            `${T.secret} chart-credentials-rabbitmq-credentials.stringData.rabbitmq-password`,
            `${T.secret} chart-credentials-celery-config.stringData.DAGSTER_CELERY_BROKER_URL`,
            `${T.statefulSet} rabbitmq.spec.template.metadata.annotations.${ROTATION_ANNOTATION}`,
            ...ANNOTATED,
        ].sort());
        const password = stringData(after, "chart-credentials-rabbitmq-credentials")["rabbitmq-password"];
        assert.notStrictEqual(password, stringData(before, "chart-credentials-rabbitmq-credentials")["rabbitmq-password"]);
        const url = stringData(after, "chart-credentials-celery-config").DAGSTER_CELERY_BROKER_URL;
        assert.ok(url.includes(`:${password}@`), "the broker URL carries it");
        keptSecret(after, "chart-credentials-rabbitmq-credentials", password);
        assert.ok(isSecretValue(one(after, T.secret, "chart-credentials-celery-config").inputs.stringData));
    });

    it("leaves a stack that never rotated exactly as it was: no annotation anywhere", async () => {
        const run = await kde04();
        assert.ok(!JSON.stringify(run.resources.map((r) => unwrap(r.inputs))).includes(ROTATION_ANNOTATION));
    });

    it("moves the Release only after both servers, which set the new password as they start", async () => {
        const run = await rotate({ postgresql: "a", rabbitmq: "b" });
        const deps = one(run, T.release).dependencies;
        for (const name of ["postgresql", "rabbitmq"]) {
            assert.ok(deps.includes(one(run, T.statefulSet, name).urn), `the Release waits for ${name}'s rollout`);
        }
        for (const name of ["postgresql", "rabbitmq"]) {
            const [container] = (unwrap(one(run, T.statefulSet, name).inputs) as any).spec.template.spec.containers;
            const script: string = container.lifecycle.postStart.exec.command[2];
            // The password only ever as an argument of the shell's own printf, into a pipe.
            const uses = script.split("\n").filter((line) => /\$(POSTGRES_PASSWORD|RABBITMQ_DEFAULT_PASS)\b/.test(line));
            assert.ok(uses.length === 1 && /printf [^|]*\|/.test(uses[0]), script);
        }
    });
});
