// The user-code images: built deterministically, pushed, pinned by digest, and a new digest
// rolls exactly one code server.
import * as assert from "assert";
import { Override } from "../scripts/stackConfig";
import { inputChanges, isSecretValue, one, ofType, promiseOf, releaseValuesOf, Run, runProgram, T, unwrap } from "./harness/mockProgram";
import { KDE04_SECRETS, DAGSTER } from "./fixtures";

const example = {
    name: "imqcam-example-1", module: "imqcam", attribute: "defs", port: 3030,
    image: "docker.io/openmsi/testing_k8s_dagster", context: "code-locations/imqcam",
};
const TWO_LOCATIONS: Record<string, Override> = {
    ...KDE04_SECRETS,
    codeLocations: { value: [example, { ...example, name: "imqcam-example-2", port: 3031, image: "docker.io/openmsi/second_location" }] },
};
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const deployments = (run: Run) => releaseValuesOf(run)["dagster-user-deployments"].deployments;

describe("user-code images", () => {
    it("builds each code location for linux/amd64 with the stack's Dagster version, under a stable tag", async () => {
        const run = await runProgram({ overrides: KDE04_SECRETS });
        const image = one(run, T.image, "imqcam-example-1");
        const inputs = unwrap(image.inputs) as any;
        assert.strictEqual(inputs.imageName, `docker.io/openmsi/testing_k8s_dagster:dagster-${DAGSTER}`);
        assert.deepStrictEqual(inputs.build, {
            context: "code-locations/imqcam",
            dockerfile: "code-locations/imqcam/Dockerfile",
            platform: "linux/amd64",
            args: { DAGSTER_VERSION: DAGSTER },
        });
        assert.strictEqual(inputs.buildOnPreview, false);
        assert.strictEqual(inputs.registry.server, "docker.io");
        assert.strictEqual(inputs.registry.username, "openmsi");
        // A nested secret makes the whole top-level input secret.
        assert.ok(isSecretValue(image.inputs.registry), "the registry password stays secret");
        assert.strictEqual(inputs.registry.password, "registry-password-7f3a");
    });

    it("gives identical resource inputs for identical inputs: a no-op up builds and upgrades nothing", async () => {
        const first = await runProgram({ overrides: KDE04_SECRETS });
        const second = await runProgram({ overrides: KDE04_SECRETS });
        assert.strictEqual(first.resources.length, second.resources.length);
        assert.deepStrictEqual(inputChanges(first, second), []);
    });

    it("builds two images and two user deployments for two code locations", async () => {
        const run = await runProgram({ overrides: TWO_LOCATIONS, digests: { "imqcam-example-1": digest("1"), "imqcam-example-2": digest("2") } });
        assert.deepStrictEqual(ofType(run, T.image).map((i) => (i.inputs as any).imageName).sort(), [
            `docker.io/openmsi/second_location:dagster-${DAGSTER}`, `docker.io/openmsi/testing_k8s_dagster:dagster-${DAGSTER}`]);
        assert.deepStrictEqual(deployments(run).map((d: any) => [d.name, d.port, `${d.image.repository}@${d.image.digest}`]), [
            ["imqcam-example-1", 3030, `docker.io/openmsi/testing_k8s_dagster@${digest("1")}`],
            ["imqcam-example-2", 3031, `docker.io/openmsi/second_location@${digest("2")}`],
        ]);
        assert.strictEqual(await promiseOf(run.outputs!.codeLocationImages["imqcam-example-2"]),
            `docker.io/openmsi/second_location@${digest("2")}`);
    });

    it("changes only that code location's image in the whole stack when its digest changes", async () => {
        const before = await runProgram({ overrides: TWO_LOCATIONS, digests: { "imqcam-example-1": digest("1"), "imqcam-example-2": digest("2") } });
        const after = await runProgram({ overrides: TWO_LOCATIONS, digests: { "imqcam-example-1": digest("1"), "imqcam-example-2": digest("3") } });
        assert.deepStrictEqual(inputChanges(before, after), [
            `${T.release} dagster.values.dagster-user-deployments.deployments.1.image.digest`,
        ]);
    });

    it("creates an image pull Secret from the push credentials for a private registry", async () => {
        const run = await runProgram({ overrides: { ...KDE04_SECRETS, registry: { value: { server: "docker.io", username: "openmsi", private: true } } } });
        const pull = one(run, T.secret, "image-pull-secret");
        assert.strictEqual(pull.inputs.type, "kubernetes.io/dockerconfigjson");
        assert.ok(isSecretValue(pull.inputs.stringData));
        const config = JSON.parse((unwrap(pull.inputs.stringData) as any)[".dockerconfigjson"]);
        assert.deepStrictEqual(config.auths["docker.io"].username, "openmsi");
        assert.strictEqual(Buffer.from(config.auths["docker.io"].auth, "base64").toString(), "openmsi:registry-password-7f3a");
        const values = releaseValuesOf(run);
        assert.deepStrictEqual(values.imagePullSecrets, [{ name: "image-pull-secret-5f2c9a1e" }]);
        assert.deepStrictEqual(values["dagster-user-deployments"].imagePullSecrets, [{ name: "image-pull-secret-5f2c9a1e" }]);
        assert.ok(one(run, T.release).dependencies.includes(pull.urn));
    });

    it("creates no pull Secret for a public registry", async () => {
        const run = await runProgram({ overrides: KDE04_SECRETS });
        assert.strictEqual(ofType(run, T.secret).filter((s) => s.inputs.type === "kubernetes.io/dockerconfigjson").length, 0);
    });
});
