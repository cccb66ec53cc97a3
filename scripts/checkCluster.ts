// `ts-node scripts/checkCluster.ts --stack <name> [--overrides '<json>'] [--stack-instance <id>]`:
// runs the entry point, index.ts, under Pulumi's mocks against the cluster of the current kube
// context (KUBECONFIG), so its checks before the first resource (src/guards/clusterOwnership.ts,
// src/guards/clusterPreflight.ts) read that cluster for real, as `pulumi preview` would; then the stack
// instance's (src/guards/instanceOwnership.ts), with the mocks' id unless given: another state of the same
// stack. Prints {error, problems, resources, kubernetesObjects} as JSON; for the tests against a
// real API server (tests/cluster).
import * as path from "path";
import { runProgram } from "../tests/harness/mockProgram";
import { Override, REPO_ROOT, secretStandIns } from "./stackConfig";

async function main(): Promise<void> {
    const arg = (flag: string) => { const at = process.argv.indexOf(flag); return at >= 0 ? process.argv[at + 1] : undefined; };
    const stack = arg("--stack");
    if (!stack) {
        console.error("usage: ts-node scripts/checkCluster.ts --stack <name> [--overrides '<json>'] [--stack-instance <id>]");
        process.exit(2);
    }
    const overrides = JSON.parse(arg("--overrides") ?? "{}") as Record<string, Override>;
    const run = await runProgram({
        stack, overrides: { ...secretStandIns(stack), ...overrides }, stackInstance: arg("--stack-instance"),
        program: () => {
            require(path.join(REPO_ROOT, "index.ts"));
            return undefined;
        },
    });
    const error = run.error as (Error & { problems?: unknown }) | undefined;
    process.stdout.write(JSON.stringify({
        error: error?.name ?? null, message: error?.message ?? null, problems: error?.problems ?? [],
        resources: run.resources.length,
        // What `pulumi up` would write to the cluster.
        kubernetesObjects: run.resources.filter((r) => r.type.startsWith("kubernetes:")).length,
    }, null, 1));
}

main().catch((e: Error) => {
    console.error(e.message);
    process.exit(1);
});
