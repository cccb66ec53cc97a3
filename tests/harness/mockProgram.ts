// Runs the real program under Pulumi's mocks (for the tests, `npm run values` and the benchmark) and records what would reach the engine: every
// resource registration with its inputs (secrets still marked), and its resource options.
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { deserializeProperties, specialSigKey, specialSecretSig } from "@pulumi/pulumi/runtime/rpc";
import { loadSettings } from "../../src/settings/load";
import { PROJECT } from "../../src/settings/types";
import { deployDagster, StackOutputs } from "../../src/stack";
import { Override, stackConfig } from "../../scripts/stackConfig";

export { REPO_ROOT } from "../../scripts/stackConfig";
import { REPO_ROOT } from "../../scripts/stackConfig";

export interface Recorded {
    type: string;
    name: string;
    /** Inputs as sent, secrets still wrapped in Pulumi's secret marker. */
    inputs: Record<string, unknown>;
    parent: string;
    protect: boolean;
    retainOnDelete: boolean;
    dependencies: string[];
    urn: string;
}

/** The id a stack instance has under mocks unless told otherwise: one state, always the same. */
export const STACK_INSTANCE = "5e1f0c2a-7b3d-4c8e-9a6f-0d2b4e6a8c10";

export interface Run {
    resources: Recorded[];
    error?: Error;
    outputs?: StackOutputs;
    /** Secret strings the mocks generated or the config held: none may reach the Release. */
    secretValues: string[];
}

export interface RunOptions {
    stack?: string;
    overrides?: Record<string, Override>;
    /** Pushed digest per code-location name; by default a hash of the image's inputs. */
    digests?: Record<string, string>;
    /** The stack instance's id in its state (src/components/stackInstance.ts); by default STACK_INSTANCE. */
    stackInstance?: string;
    /** The program to evaluate; by default this project's, as `index.ts` runs it. */
    program?: () => StackOutputs | undefined;
}

/** Evaluates the program for a stack under mocks and waits until every registration is done. */
export async function runProgram(opts: RunOptions = {}): Promise<Run> {
    const stack = opts.stack ?? "kde04";
    const resources: Recorded[] = [];
    const secretValues: string[] = [];
    const mocks: pulumi.runtime.Mocks = {
        newResource(args) {
            const state = { ...args.inputs };
            if (args.type === "docker:index/image:Image") {
                const repository = String(args.inputs.imageName).replace(/:[^/:]+$/, "");
                const digest = opts.digests?.[args.name] ??
                    `sha256:${crypto.createHash("sha256").update(JSON.stringify(args.inputs)).digest("hex")}`;
                state.repoDigest = `${repository}@${digest}`;
            } else if (args.type === "random:index/randomPassword:RandomPassword") {
                // Deterministic, as a password kept in state is from one `pulumi up` to the next.
                const value = `generated-${crypto.createHash("sha256").update(args.name).digest("hex").slice(0, 12)}`;
                secretValues.push(value);
                // As the engine would: the provider marks `result` secret.
                state.result = pulumi.secret(value);
            } else if (args.type === "random:index/randomUuid:RandomUuid") {
                state.result = opts.stackInstance ?? STACK_INSTANCE;
            } else if (args.type === "kubernetes:helm.sh/v3:Release") {
                state.status = { name: args.inputs.name, version: args.inputs.version, namespace: args.inputs.namespace, status: "deployed" };
            } else if (args.type.startsWith("kubernetes:") && args.inputs.metadata) {
                // The provider auto-names objects `<logical name>-<random suffix>`; the API server
                // gives each object a uid, new when the object is replaced (here: its inputs change).
                const uid = crypto.createHash("sha256").update(JSON.stringify(args.inputs)).digest("hex").slice(0, 36);
                state.metadata = { ...args.inputs.metadata, name: args.inputs.metadata.name ?? `${args.name}-5f2c9a1e`, uid };
            }
            return { id: `${args.name}-id`, state };
        },
        call: (args) => args.inputs,
    };

    await pulumi.runtime.setMocks(mocks, PROJECT, stack);
    const monitor = pulumi.runtime.getMonitor() as unknown as {
        registerResource(req: RegisterRequest, cb: (err: unknown, resp: unknown) => void): Promise<void>;
    };
    let inFlight = 0;
    const original = monitor.registerResource.bind(monitor);
    monitor.registerResource = async (req, cb) => {
        inFlight++;
        resources.push({
            type: req.getType(),
            name: req.getName(),
            inputs: deserializeProperties(req.getObject()) as Record<string, unknown>,
            parent: req.getParent(),
            protect: req.getProtect() === true,
            retainOnDelete: req.getRetainondelete() === true,
            dependencies: req.getDependenciesList(),
            urn: "",
        });
        const record = resources[resources.length - 1];
        try {
            await original(req, (err, resp) => {
                if (resp) record.urn = (resp as { getUrn(): string }).getUrn();
                cb(err, resp);
            });
        } finally {
            inFlight--;
        }
    };

    const { config, secretKeys } = stackConfig(stack, opts.overrides);
    for (const o of Object.values(opts.overrides ?? {})) {
        if (o.secret && o.value !== undefined) secretValues.push(...leafStrings(o.value));
    }
    pulumi.runtime.setAllConfig(config, secretKeys);

    let outputs: StackOutputs | undefined;
    let error: Error | undefined;
    // An error in an apply fails every resource whose inputs need it, as an unhandled rejection
    // (which `pulumi up` reports and fails on): the first is the run's error.
    const failed = (e: unknown) => { error ??= e as Error; };
    process.on("unhandledRejection", failed);
    try {
        outputs = (opts.program ?? (() => deployDagster(loadSettings(REPO_ROOT))))();
    } catch (e) {
        error = e as Error;
    }
    try {
        await settle(() => inFlight);
    } finally {
        process.off("unhandledRejection", failed);
    }
    return { resources, error, outputs, secretValues };
}

interface RegisterRequest {
    getType(): string; getName(): string; getParent(): string; getProtect(): boolean | undefined;
    getRetainondelete(): boolean | undefined; getDependenciesList(): string[]; getObject(): never;
}

/** Waits until no registration has been in flight for a while: the program is then done. */
async function settle(inFlight: () => number): Promise<void> {
    let quiet = 0;
    while (quiet < 50) {
        await new Promise((r) => setImmediate(r));
        quiet = inFlight() === 0 ? quiet + 1 : 0;
    }
}

function leafStrings(v: unknown): string[] {
    if (v !== null && typeof v === "object") return Object.values(v).flatMap(leafStrings);
    return [String(v)];
}

// --- reading what was recorded

export function isSecretValue(v: unknown): boolean {
    return v !== null && typeof v === "object" && (v as Record<string, unknown>)[specialSigKey] === specialSecretSig;
}

/** Inputs with secret markers replaced by their values, for asserting on structure. */
export function unwrap(v: unknown): unknown {
    if (isSecretValue(v)) return unwrap((v as { value: unknown }).value);
    if (Array.isArray(v)) return v.map(unwrap);
    if (v !== null && typeof v === "object") {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)]));
    }
    return v;
}

export function ofType(run: Run, type: string): Recorded[] {
    return run.resources.filter((r) => r.type === type);
}

export function one(run: Run, type: string, name?: string): Recorded {
    const found = ofType(run, type).filter((r) => name === undefined || r.name === name);
    if (found.length !== 1) {
        throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}`);
    }
    return found[0];
}

/** Paths at which two JSON-like trees differ. */
export function differences(a: unknown, b: unknown, at = ""): string[] {
    if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
        const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
        return [...keys].flatMap((k) => differences((a as any)[k], (b as any)[k], `${at}.${k}`));
    }
    return a === b ? [] : [at];
}

/** The Release's chart values as the program sent them. */
export function releaseValuesOf(run: Run): Record<string, any> {
    return unwrap(one(run, T.release).inputs.values) as Record<string, any>;
}

/** Every input that differs between two evaluations of one program, as `<type> <name><path>`. */
export function inputChanges(a: Run, b: Run): string[] {
    return a.resources.flatMap((r, i) =>
        differences(unwrap(r.inputs), unwrap(b.resources[i].inputs)).map((p) => `${r.type} ${r.name}${p}`));
}

export function promiseOf<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply(resolve));
}

export const T = {
    namespace: "kubernetes:core/v1:Namespace",
    pv: "kubernetes:core/v1:PersistentVolume",
    pvc: "kubernetes:core/v1:PersistentVolumeClaim",
    secret: "kubernetes:core/v1:Secret",
    service: "kubernetes:core/v1:Service",
    statefulSet: "kubernetes:apps/v1:StatefulSet",
    configMap: "kubernetes:core/v1:ConfigMap",
    job: "kubernetes:batch/v1:Job",
    cronJob: "kubernetes:batch/v1:CronJob",
    networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    limitRange: "kubernetes:core/v1:LimitRange",
    release: "kubernetes:helm.sh/v3:Release",
    image: "docker:index/image:Image",
    password: "random:index/randomPassword:RandomPassword",
    uuid: "random:index/randomUuid:RandomUuid",
};
