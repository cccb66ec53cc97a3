// `ts-node scripts/benchClusterReads.ts [rounds]`, for tests/cluster/bench.py: times the checks'
// one read of the cluster of the current kube context (src/guards/clusterReads.ts) against one bare
// GET through the same kubectl, in this process. Prints JSON {readSeconds, bareGetSeconds}, medians.
import { kubectl, readCluster } from "../src/guards/clusterReads";

const rounds = Number(process.argv[2] ?? "5");
const run = kubectl(undefined);
const timed = (fn: () => unknown) => { const start = process.hrtime.bigint(); fn(); return Number(process.hrtime.bigint() - start) / 1e9; };
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const read: number[] = [], bare: number[] = [];
for (let i = 0; i < rounds; i++) {
    bare.push(timed(() => run(["get", "--raw", "/version"])));
    read.push(timed(() => readCluster("imqcam-dagster", run)));
}
process.stdout.write(JSON.stringify({ readSeconds: median(read), bareGetSeconds: median(bare) }));
