// `npm run bench`: how long one evaluation of the program takes under mocks, as a ratio to as many
// bare ConfigMaps evaluated the same way, in several rounds. Machines are noisy: read the ratio
// and its spread, not the seconds.
import * as k8s from "@pulumi/kubernetes";
import { KDE04_SECRETS } from "../tests/fixtures";
import { runProgram } from "../tests/harness/mockProgram";

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
/** Rounds of (program, ConfigMaps) pairs: the spread of their ratio is the noise of the machine. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

async function time(fn: () => Promise<unknown>): Promise<number[]> {
    await fn(); // warm-up: module loading and JIT are not the program
    const samples: number[] = [];
    for (let i = 0; i < RUNS; i++) {
        const start = process.hrtime.bigint();
        await fn();
        samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    return samples;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
    const run = await runProgram({ stack: "kde04", overrides: KDE04_SECRETS });
    const resources = run.resources.length;
    const ratios: number[] = [];
    const programMs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
        const program = median(await time(() => runProgram({ stack: "kde04", overrides: KDE04_SECRETS })));
        // As many resources as the program registers, each a bare ConfigMap, through the same
        // harness, config and waiting: the per-resource floor of Pulumi's registration.
        const flat = median(await time(() => runProgram({ stack: "kde04", overrides: KDE04_SECRETS, program: () => {
            for (let i = 0; i < resources; i++) new k8s.core.v1.ConfigMap(`flat-${i}`, { data: { i: String(i) } });
            return undefined;
        } })));
        programMs.push(program);
        ratios.push(program / flat);
        console.log(`round ${round + 1}: program ${program.toFixed(1)} ms, ${resources} bare ConfigMaps ${flat.toFixed(1)} ms, ratio ${(program / flat).toFixed(2)}`);
    }
    const sorted = [...ratios].sort((a, b) => a - b);
    console.log(`${ROUNDS} rounds of ${RUNS} evaluations, ${resources} resources`);
    console.log(`program / bare ConfigMaps: median ${median(ratios).toFixed(2)}, spread ${sorted[0].toFixed(2)} to ${sorted[sorted.length - 1].toFixed(2)}`);
    console.log(`program median per round:  ${[...programMs].sort((a, b) => a - b).map((x) => x.toFixed(0)).join(", ")} ms`);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
