// The broker's configuration file under mocks: made, mounted where the image reads it, and rolled
// when it changes. tests/broker runs a real RabbitMQ and Celery worker with the same file.
import * as assert from "assert";
import { ADVANCED_CONFIG_PATH, advancedConfig, BrokerSettings, configHash } from "../src/chart/brokerConfig";
import { DEFAULT_IMAGES } from "../src/components/parts/images";
import { CONFIG_HASH_ANNOTATION, RabbitMqBroker } from "../src/components/rabbitmq";
import { one, Run, runProgram, T, unwrap } from "./harness/mockProgram";
import { KDE04_SECRETS } from "./fixtures";

const NAMESPACE = "imqcam-dagster";
const podOf = (run: Run) => (unwrap(one(run, T.statefulSet, "rabbitmq").inputs) as any).spec.template;
const configMapOf = (run: Run) => unwrap(one(run, T.configMap, "rabbitmq-config").inputs) as any;

/** The broker component alone, as src/stack.ts makes it, with the given settings. */
function brokerWith(config?: BrokerSettings): Promise<Run> {
    return runProgram({
        program: () => {
            new RabbitMqBroker("rabbitmq", {
                namespace: NAMESPACE, name: "dagster-rabbitmq", username: "dagster", config,
                credentialsSecretName: "dagster-rabbitmq-credentials", claimName: "dagster-rabbitmq-data",
                nodeHostnames: ["kde04.idies.jhu.edu"], image: DEFAULT_IMAGES.rabbitmq,
            });
            return undefined;
        },
    });
}

describe("the broker's configuration", () => {
    let run: Run;
    before(async () => {
        run = await runProgram({ stack: "kde04", overrides: KDE04_SECRETS });
        if (run.error) throw run.error;
    });

    it("is a ConfigMap in the namespace, owned by the broker, whose advanced.config never times out a consumer", () => {
        const configMap = configMapOf(run);
        assert.strictEqual(configMap.metadata.name, "dagster-rabbitmq-advanced-config");
        assert.strictEqual(configMap.metadata.namespace, NAMESPACE);
        assert.deepStrictEqual(Object.keys(configMap.data), ["advanced.config"]);
        assert.strictEqual(configMap.data["advanced.config"], advancedConfig());
        assert.match(configMap.data["advanced.config"], /^\[\{rabbit, \[\{consumer_timeout, undefined\}\]\}\]\.$/m);
        const component = one(run, "imqcam-dagster:index:RabbitMqBroker");
        assert.strictEqual(one(run, T.configMap, "rabbitmq-config").parent, component.urn);
        assert.strictEqual(one(run, T.statefulSet, "rabbitmq").parent, component.urn);
    });

    it("is mounted, read-only, at the file the official image reads", () => {
        const pod = podOf(run);
        const [container] = pod.spec.containers;
        // RABBITMQ_ADVANCED_CONFIG_FILE's default in the official image: its Dockerfile empties
        // SYS_PREFIX, so RabbitMQ looks in /etc/rabbitmq. The program also sets it, to the same file.
        assert.strictEqual(ADVANCED_CONFIG_PATH, "/etc/rabbitmq/advanced.config");
        const env = container.env.find((e: any) => e.name === "RABBITMQ_ADVANCED_CONFIG_FILE");
        assert.deepStrictEqual(env, { name: "RABBITMQ_ADVANCED_CONFIG_FILE", value: ADVANCED_CONFIG_PATH });
        const mount = container.volumeMounts.find((m: any) => m.mountPath === ADVANCED_CONFIG_PATH);
        assert.deepStrictEqual(mount, { name: "config", mountPath: ADVANCED_CONFIG_PATH, subPath: "advanced.config", readOnly: true });
        assert.deepStrictEqual(pod.spec.volumes.map((v: any) => v.name), ["data", "config", "tmp", "log"]);
        const volume = pod.spec.volumes.find((v: any) => v.name === "config");
        assert.deepStrictEqual(volume, { name: "config", configMap: { name: configMapOf(run).metadata.name } });
        // The data volume is untouched.
        assert.deepStrictEqual(container.volumeMounts.find((m: any) => m.name === "data"), { name: "data", mountPath: "/var/lib/rabbitmq" });
    });

    it("puts the file's hash on the pod template, so that a changed file rolls the broker", async () => {
        assert.strictEqual(podOf(run).metadata.annotations[CONFIG_HASH_ANNOTATION], configHash(configMapOf(run).data["advanced.config"]));
        // The labels the Service selects are kept.
        assert.deepStrictEqual(podOf(run).metadata.labels, { "app.kubernetes.io/name": "rabbitmq", "app.kubernetes.io/instance": "dagster-rabbitmq" });

        // One at a time: each evaluation sets Pulumi's global mocks.
        const same = await brokerWith();
        const again = await brokerWith();
        const changed = await brokerWith({ consumerTimeoutMs: 3_600_000 });
        const hash = (r: Run) => podOf(r).metadata.annotations[CONFIG_HASH_ANNOTATION];
        assert.strictEqual(hash(same), hash(run));
        assert.strictEqual(hash(again), hash(same), "the same file must not roll the broker");
        assert.match(configMapOf(changed).data["advanced.config"], /\{consumer_timeout, 3600000\}/);
        assert.notStrictEqual(hash(changed), hash(same));
        assert.strictEqual(hash(changed), configHash(configMapOf(changed).data["advanced.config"]));
    });

    it("refuses a consumer timeout that is not a positive whole number of milliseconds", () => {
        for (const consumerTimeoutMs of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
            assert.throws(() => advancedConfig({ consumerTimeoutMs }), /consumerTimeoutMs must be a positive whole number/);
        }
        assert.strictEqual(advancedConfig({ consumerTimeoutMs: 2000 }).includes("{consumer_timeout, 2000}"), true);
    });
});
