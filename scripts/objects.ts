// `ts-node scripts/objects.ts --stack <name> [--with-release] [--overrides '<json>'] [--secret-values]`:
// prints, as JSON, every Kubernetes object the program sends for a stack (under mocks; the Helm
// release's objects come from the chart), for the schema tests (tests/schemas), the API server's
// (tests/cluster) and the real node's (tests/node); with the flag, {objects, releaseValues,
// patches} of the same evaluation, patches being what the program applies to objects the chart
// renders. Secret values are replaced by a stand-in, unless `--secret-values` keeps the mocks'
// generated ones (test values, never real secrets), which pods on the real node need to log in.
import { releaseValuesOf, Run, runProgram, unwrap } from "../tests/harness/mockProgram";
import { Override, secretStandIns, stackConfig } from "./stackConfig";

const SECRET_STAND_IN = "<secret>";
/** An envSecrets entry for stacks whose file holds none yet, so their Secret's shape is checked too. */
const SAMPLE_ENV_SECRETS = { "example-credentials": { EXAMPLE_TOKEN: SECRET_STAND_IN } };

export async function kubernetesObjects(stack: string): Promise<Record<string, unknown>[]> {
    return objectsOf(await evaluate(stack));
}

async function evaluate(stack: string, overrides: Record<string, Override> = {}): Promise<Run> {
    const hasEnvSecrets = stackConfig(stack).config["imqcam-dagster:envSecrets"] !== undefined;
    const run = await runProgram({ stack, overrides: {
        ...secretStandIns(stack),
        ...(hasEnvSecrets ? {} : { envSecrets: { value: SAMPLE_ENV_SECRETS, secret: true } }),
        ...overrides,
    } });
    if (run.error) throw run.error;
    return run;
}

const isKubernetes = (type: string) => type.startsWith("kubernetes:") && !type.startsWith("kubernetes:helm.sh/");
const isPatch = (type: string) => type.endsWith("Patch");

function patchesOf(run: Run): Record<string, unknown>[] {
    return run.resources.filter((r) => isKubernetes(r.type) && isPatch(r.type))
        .map((r) => unwrap(r.inputs) as Record<string, unknown>);
}

function objectsOf(run: Run, secretValues = false): Record<string, unknown>[] {
    return run.resources
        // Not the Release, and not patches of the objects it renders (only a part of an object).
        .filter((r) => isKubernetes(r.type) && !isPatch(r.type))
        .map((r) => {
            const object = unwrap(r.inputs) as Record<string, any>;
            if (object.kind === "Secret" && object.stringData && !secretValues) {
                object.stringData = Object.fromEntries(Object.keys(object.stringData).map((k) => [k, SECRET_STAND_IN]));
            }
            return object;
        });
}

if (require.main === module) {
    const arg = (flag: string) => { const at = process.argv.indexOf(flag); return at >= 0 ? process.argv[at + 1] : undefined; };
    const stack = arg("--stack");
    if (!stack) {
        console.error("usage: ts-node scripts/objects.ts --stack <name> [--with-release] [--overrides '<json>'] [--secret-values]");
        process.exit(2);
    }
    const secretValues = process.argv.includes("--secret-values");
    evaluate(stack, JSON.parse(arg("--overrides") ?? "{}")).then(
        (run) => process.stdout.write(JSON.stringify(process.argv.includes("--with-release")
            ? { objects: objectsOf(run, secretValues), releaseValues: releaseValuesOf(run), patches: patchesOf(run) }
            : objectsOf(run, secretValues), null, 1)),
        (e: Error) => { console.error(e.message); process.exit(1); });
}
