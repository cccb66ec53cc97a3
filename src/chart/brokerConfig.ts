// The broker's configuration file, rendered by pure functions: the component mounts it, the tests
// under mocks read it from the ConfigMap, and tests/broker runs a real RabbitMQ with it.
import * as crypto from "crypto";

/** The ConfigMap key, and the file the official image reads it from (RABBITMQ_ADVANCED_CONFIG_FILE's default). */
export const ADVANCED_CONFIG_KEY = "advanced.config";
export const ADVANCED_CONFIG_PATH = "/etc/rabbitmq/advanced.config";

export interface BrokerSettings {
    /**
     * How long, in milliseconds, a delivery may stay unacknowledged before RabbitMQ closes the
     * consumer's channel. Unset (the default): never. A celery-k8s task holds its worker for the
     * whole step Job, and the message queued behind it waits unacknowledged just as long; when
     * the timeout fires, the Celery worker exits instead of reconnecting.
     */
    consumerTimeoutMs?: number;
}

/**
 * RabbitMQ's advanced.config, an Erlang term. It is this file and not rabbitmq.conf because only
 * here may `consumer_timeout` be `undefined` (rabbitmq.conf refuses the value and the node does
 * not boot); its settings also win over rabbitmq.conf's.
 */
export function advancedConfig(settings: BrokerSettings = {}): string {
    const timeout = settings.consumerTimeoutMs;
    if (timeout !== undefined && !(Number.isSafeInteger(timeout) && timeout > 0)) {
        throw new Error(`consumerTimeoutMs must be a positive whole number of milliseconds, not ${timeout}`);
    }
    return "%% Written by the imqcam-dagster program (src/chart/brokerConfig.ts).\n" +
        `[{rabbit, [{consumer_timeout, ${timeout ?? "undefined"}}]}].\n`;
}

/** The hash the broker's pod template carries, so that a changed file rolls the broker. */
export function configHash(text: string): string {
    return crypto.createHash("sha256").update(text).digest("hex");
}
