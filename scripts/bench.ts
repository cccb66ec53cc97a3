// `npm run bench`: how long one evaluation of the program takes under mocks, next to an empty
// Pulumi program evaluated the same way. Machines are noisy: read the ratio, not the seconds.
import * as k8s from "@pulumi/kubernetes";
import { KDE04_SECRETS } from "../tests/fixtures";
import { runProgram } from "./mockProgram";

const RUNS = Number(process.env.BENCH_RUNS ?? 40);


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
    const program = await time(() => runProgram({ stack: "kde04", overrides: KDE04_SECRETS }));
    // The same harness, config and waiting, around a program that registers nothing.
    const empty = await time(() => runProgram({ stack: "kde04", overrides: KDE04_SECRETS, program: () => undefined }));
    const run = await runProgram({ stack: "kde04", overrides: KDE04_SECRETS });
    const resources = run.resources.length;
    // As many resources as the program registers, each a bare ConfigMap: the per-resource floor.
    const flat = await time(() => runProgram({ stack: "kde04", overrides: KDE04_SECRETS, program: () => {
        for (let i = 0; i < resources; i++) new k8s.core.v1.ConfigMap(`flat-${i}`, { data: { i: String(i) } });
        return undefined;
    } }));
    console.log(`runs per program:            ${RUNS}`);
    console.log(`kde04 program, median:       ${median(program).toFixed(1)} ms for ${resources} resources`);
    console.log(`empty program, median:       ${median(empty).toFixed(1)} ms for 0 resources`);
    console.log(`${resources} bare ConfigMaps, median: ${median(flat).toFixed(1)} ms`);
    console.log(`ratio program / empty:       ${(median(program) / Math.max(median(empty), 0.001)).toFixed(1)}`);
    console.log(`ratio program / ConfigMaps:  ${(median(program) / median(flat)).toFixed(2)}`);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
