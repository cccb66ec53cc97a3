// `npm run values -- --stack <name>`: prints, as YAML, the Helm values the Release would receive
// for a stack, for review and for `helm template` by hand. It runs the real program under
// mocks, so nothing is built or deployed. Credentials reach the chart only as Secret names,
// so there is nothing to redact.
import * as yaml from "js-yaml";
import { releaseValuesOf, runProgram } from "../tests/harness/mockProgram";
import { secretStandIns } from "./stackConfig";

/** The values of a stack's Release, exactly as the program passes them under mocks. */
export async function releaseValues(stack: string): Promise<Record<string, unknown>> {
    // The values never contain the registry password, so a checkout without it can still print them.
    const run = await runProgram({ stack, overrides: secretStandIns(stack) });
    if (run.error) throw run.error;
    return releaseValuesOf(run);
}

export function valuesYaml(stack: string, values: Record<string, unknown>): string {
    return `# Helm values of the Release "dagster" for stack ${stack} (npm run values -- --stack ${stack}).\n` +
        "# Image digests and the envSecrets uids are stand-ins for the ones `pulumi up` makes.\n" +
        yaml.dump(values, { sortKeys: true, lineWidth: 120, noRefs: true });
}

async function main(): Promise<void> {
    const at = process.argv.indexOf("--stack");
    const stack = at >= 0 ? process.argv[at + 1] : undefined;
    if (!stack) {
        console.error("usage: npm run values -- --stack <name>   (e.g. kde04 or local)");
        process.exit(2);
    }
    process.stdout.write(valuesYaml(stack, await releaseValues(stack)));
}

if (require.main === module) {
    main().catch((e: Error) => {
        console.error(e.message);
        process.exit(1);
    });
}
