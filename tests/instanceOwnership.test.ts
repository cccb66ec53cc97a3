// No stack writes its passwords over credentials another instance of it (same name, other state) made.
import * as assert from "assert";
import { INSTANCE_ANNOTATION, NamedObjects, ObservedObject, OWNER_ANNOTATION } from "../src/guards/clusterOwnership";
import { objectsOfAnotherInstance, StackInstanceError } from "../src/guards/instanceOwnership";
import { credentialsSecretNames } from "../src/components/credentials";
import { loadSettings } from "../src/settings/load";
import { deployDagster } from "../src/stack";
import { ofType, one, runProgram, STACK_INSTANCE, T, unwrap } from "./harness/mockProgram";
import { REPO_ROOT } from "../scripts/stackConfig";
import { KDE04_SECRETS } from "./fixtures";
import { assertPasteable } from "./pasteable";

const OWNER = "imqcam-dagster/kde04";
const THIS = STACK_INSTANCE;
const OTHER = "0b7c3d2e-1f4a-4b6c-8d9e-a1b2c3d4e5f6";
const EXPECTED: NamedObjects = {
    namespace: "imqcam-dagster", ioVolume: "imqcam-dagster-io-data", ioClaim: "imqcam-dagster-io-data",
    dataClaims: ["dagster-postgresql-data", "dagster-rabbitmq-data"], releaseName: "dagster",
    credentialsSecrets: ["dagster-postgresql-credentials", "dagster-rabbitmq-credentials", "dagster-celery-config"],
};
const marked = (kind: string, name: string, owner?: string, instance?: string): ObservedObject => ({ kind, name, annotations: {
    ...(owner ? { [OWNER_ANNOTATION]: owner } : {}), ...(instance ? { [INSTANCE_ANNOTATION]: instance } : {}) } });
const secret = (owner?: string, instance?: string) => marked("Secret", "dagster-postgresql-credentials", owner, instance);
/** The check's problems, each fix first run through a shell parser. */
const problems = (...observed: ObservedObject[]) => {
    const found = objectsOfAnotherInstance(EXPECTED, observed, OWNER, THIS);
    for (const p of found) assertPasteable(p.fix, p.key);
    return found;
};
const keys = (...observed: ObservedObject[]) => problems(...observed).map((p) => p.key);

describe("objects another instance of this stack made", () => {
    it("finds nothing when nothing exists yet: the first deploy", () => {
        assert.deepStrictEqual(problems(), []);
    });

    it("finds nothing when this instance made everything: a redeploy", () => {
        assert.deepStrictEqual(keys(secret(OWNER, THIS), marked("Namespace", "imqcam-dagster", OWNER, THIS),
            marked("PersistentVolumeClaim", "dagster-postgresql-data", OWNER, THIS)), []);
    });

    it("refuses a credentials Secret that a stack of the same name with other state made", () => {
        const [p] = problems(secret(OWNER, OTHER));
        assert.strictEqual(p.key, "Secret dagster-postgresql-credentials");
        assert.strictEqual(p.problem, `was made by another instance of stack ${OWNER} (${OTHER}, a stack of this name ` +
            `with other state), not by this one (${THIS}); deploy with the state that made it (below), or this stack into another namespace`);
        assert.strictEqual(p.fix, "pulumi config set namespace");
    });

    it("refuses the kept namespace and claims of another instance, whose Secrets a teardown deleted", () => {
        // `pulumi destroy --exclude-protected` deletes the Secrets and keeps the data: the claims still say whose it is.
        assert.deepStrictEqual(keys(marked("Namespace", "imqcam-dagster", OWNER, OTHER),
            marked("PersistentVolume", "imqcam-dagster-io-data", OWNER, OTHER),
            marked("PersistentVolumeClaim", "dagster-postgresql-data", OWNER, OTHER)), [
            "Namespace imqcam-dagster", "PersistentVolume imqcam-dagster-io-data", "PersistentVolumeClaim dagster-postgresql-data"]);
    });

    it("refuses an instance of another stack", () => {
        const [p] = problems(secret("imqcam-dagster/local", OTHER));
        assert.match(p.problem, new RegExp(`^was made by stack imqcam-dagster/local \\(instance ${OTHER}\\), not by ${OWNER}`));
    });

    it("refuses a credentials Secret without marks, or marked by another stack only", () => {
        const [unmarked] = problems(secret());
        assert.strictEqual(unmarked.problem, "exists, and nothing says this stack made the password it holds; only if " +
            "this stack's own state made it, before the program marked it, mark it so (the fix); otherwise deploy with the " +
            "state that made it (below), or this stack into another namespace");
        assert.strictEqual(unmarked.fix, "kubectl -n imqcam-dagster annotate secret/dagster-postgresql-credentials " +
            `imqcam-dagster/stack=${OWNER} imqcam-dagster/stack-instance=${THIS}`);
        const [other] = problems(secret("imqcam-dagster/local"));
        assert.strictEqual(other.problem, `exists and belongs to stack imqcam-dagster/local, not ${OWNER}; deploy this stack into another namespace`);
        assert.strictEqual(other.fix, "pulumi config set namespace");
    });

    it("refuses what an older version of the program made for this stack's name, and says how to mark it", () => {
        // Before the instance mark: this stack's own state, or another of its name; only the operator knows.
        const found = problems(secret(OWNER), marked("Namespace", "imqcam-dagster", OWNER),
            marked("PersistentVolumeClaim", "dagster-rabbitmq-data", OWNER));
        assert.deepStrictEqual(found.map((p) => p.key), [
            "Secret dagster-postgresql-credentials", "Namespace imqcam-dagster", "PersistentVolumeClaim dagster-rabbitmq-data"]);
        for (const p of found) {
            assert.match(p.problem, new RegExp(`^is marked as stack ${OWNER}'s but not with an instance, so nothing says this stack instance made it; only if`));
        }
        assert.strictEqual(found[1].fix, `kubectl annotate namespace/imqcam-dagster imqcam-dagster/stack=${OWNER} ` +
            `imqcam-dagster/stack-instance=${THIS}`);
        assert.match(found[2].fix, /^kubectl -n imqcam-dagster annotate persistentvolumeclaim\/dagster-rabbitmq-data /);
    });

    it("leaves unmarked namespace, volume and claims to the check by name: the takeover adopts them", () => {
        assert.deepStrictEqual(keys(marked("Namespace", "imqcam-dagster"), marked("PersistentVolume", "imqcam-dagster-io-data"),
            marked("PersistentVolumeClaim", "imqcam-dagster-io-data")), []);
    });

    it("says what is wrong and the fix, and keeps its message whole where Pulumi would prefix it", () => {
        const error = new StackInstanceError(problems(secret(OWNER, OTHER)));
        assert.ok(error.message.startsWith("the cluster holds objects another instance of this stack made"));
        assert.match(error.message, /nothing in the cluster was changed/);
        assert.match(error.message, /- Secret dagster-postgresql-credentials: was made by another instance[\s\S]*\n {4}fix: /);
        assert.match(error.message, /`pulumi stack output stackInstance` prints its instance[\s\S]*pulumi stack import --file <file>/);
        const whole = error.message;
        error.message = `error serializing property "metadata": ${error.message}`;
        assert.strictEqual(error.message, whole);
    });
});

describe("the stack instance under mocks", () => {
    const kde04 = (observed: ObservedObject[], stackInstance?: string) => runProgram({ overrides: KDE04_SECRETS, stackInstance,
        // As index.ts does, with what the cluster holds given instead of read.
        program: () => deployDagster(loadSettings(REPO_ROOT), observed) });

    it("keeps a protected id and marks the namespace, the volume, the claims and the credentials Secrets with it", async () => {
        const run = await kde04([]);
        assert.strictEqual(run.error, undefined);
        const uuid = one(run, T.uuid);
        assert.ok(uuid.protect);
        assert.strictEqual(uuid.parent, one(run, "imqcam-dagster:index:StackInstance").urn);
        assert.deepStrictEqual(unwrap(uuid.inputs), {});
        const marks = { [OWNER_ANNOTATION]: OWNER, [INSTANCE_ANNOTATION]: STACK_INSTANCE };
        const markedOnes = run.resources.filter((r) => (unwrap(r.inputs) as any).metadata?.annotations?.[INSTANCE_ANNOTATION]);
        assert.deepStrictEqual(markedOnes.map((r) => `${r.type} ${(r.inputs.metadata as any).name}`).sort(), [
            `${T.namespace} imqcam-dagster`, `${T.pv} imqcam-dagster-io-data`,
            `${T.pvc} dagster-postgresql-data`, `${T.pvc} dagster-rabbitmq-data`, `${T.pvc} imqcam-dagster-io-data`,
            ...credentialsSecretNames("dagster").map((s) => `${T.secret} ${s}`),
        ].sort());
        for (const r of markedOnes) {
            const annotations = (unwrap(r.inputs) as any).metadata.annotations;
            for (const [k, v] of Object.entries(marks)) assert.strictEqual(annotations[k], v, r.name);
        }
    });

    it("writes nothing to the cluster when another instance made the credentials Secret", async () => {
        const run = await kde04([secret(OWNER, OTHER)]);
        assert.ok(run.error instanceof StackInstanceError, `expected a StackInstanceError, got ${run.error}`);
        assert.deepStrictEqual(run.error.problems.map((p) => p.key), ["Secret dagster-postgresql-credentials"]);
        assert.deepStrictEqual(ofType(run, T.uuid).length, 1, "the id is made first");
        assert.deepStrictEqual(run.resources.filter((r) => r.type.startsWith("kubernetes:")).map((r) => r.name), []);
        for (const value of run.secretValues) assert.ok(!run.error.message.includes(value), "no password in the message");
    });

    it("deploys when this instance made them, and in the takeover, whose cluster holds unmarked objects only", async () => {
        const ours = [secret(OWNER, STACK_INSTANCE), marked("Namespace", "imqcam-dagster", OWNER, STACK_INSTANCE)];
        assert.strictEqual((await kde04(ours)).error, undefined);
        assert.ok((await kde04(ours, OTHER)).error instanceof StackInstanceError, "the same objects, seen from another state");
        const manual = [marked("Namespace", "imqcam-dagster"), marked("PersistentVolume", "imqcam-dagster-io-data"),
            marked("PersistentVolumeClaim", "imqcam-dagster-io-data")];
        const takeover = await kde04(manual);
        assert.strictEqual(takeover.error, undefined);
        assert.strictEqual(ofType(takeover, T.release).length, 1);
    });
});
