// `ts-node scripts/checkStack.ts --stack <name>`: what `pulumi up` of the stack would stop at, found
// without changing anything, for the takeover's dry run (takeover/inventory.py), which must find it
// before the old release is uninstalled. The program's own code, under Pulumi's mocks: the
// stack's settings validated (its secrets as the stack file holds them, no stand-ins), every
// resource built and the Release values rendered; then the cluster of the current kube context
// checked as `pulumi up` checks it (src/guards/clusterPreflight.ts: nodes, StorageClasses, free volumes of a
// class without a provisioner, the Kubernetes version). Not the ownership check: before the
// uninstall the old release is still there, as it must be. Prints JSON {problems, buildsImages,
// shareWriter}.
import { clusterFacts, preflightProblems } from "../src/guards/clusterPreflight";
import { kubectl, readCluster } from "../src/guards/clusterReads";
import { Problem } from "../src/problem";
import { loadSettings } from "../src/settings/load";
import { Settings } from "../src/settings/types";
import { clusterNeeds, deployDagster } from "../src/stack";
import { releaseValuesOf, runProgram } from "../tests/harness/mockProgram";
import { REPO_ROOT } from "./stackConfig";

async function main(): Promise<void> {
    const at = process.argv.indexOf("--stack");
    const stack = at >= 0 ? process.argv[at + 1] : undefined;
    if (!stack) {
        console.error("usage: ts-node scripts/checkStack.ts --stack <name>");
        process.exit(2);
    }
    let settings: Settings | undefined;
    const run = await runProgram({ stack, program: () => deployDagster(settings = loadSettings(REPO_ROOT)) });
    const problems: Problem[] = [];
    const error = run.error as (Error & { problems?: Problem[] }) | undefined;
    if (error) {
        problems.push(...(error.problems ?? [{ key: "(program)", problem: error.message, fix: "see the message" }]));
    } else {
        releaseValuesOf(run); // rendered, or this throws
    }
    if (settings) {
        const needs = clusterNeeds(settings);
        problems.push(...preflightProblems(needs, clusterFacts(needs.namespace, readCluster(needs.namespace, kubectl(undefined)))));
    }
    process.stdout.write(JSON.stringify({
        problems,
        // Docker is needed only where `pulumi up` builds an image (a code location with a context).
        buildsImages: settings?.codeLocations.some((l) => l.build !== undefined) ?? true,
        // Who will write on the IO share, so the takeover can check the share lets it.
        shareWriter: settings?.ioVolume.writer ?? null,
    }, null, 1));
}

main().catch((e: Error) => {
    console.error(e.message);
    process.exit(1);
});
