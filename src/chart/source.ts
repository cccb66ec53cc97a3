// The Dagster Helm chart: from its repository, or (config `dagsterChart`) a chart folder or
// packaged .tgz on this machine, for a cluster or pipeline without access to the repository.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";

export const CHART_REPOSITORY = "https://dagster-io.github.io/helm";
/** The published chart's Chart.yaml `kubeVersion` (dagster-io/dagster helm/dagster). */
export const PUBLISHED_CHART_KUBE_VERSION = ">= 1.18.0-0";

export interface LocalChart { name: string; version: string; kubeVersion?: string }

/** Reads a chart's Chart.yaml from its folder or its `helm package` .tgz; throws a plain reason. */
export function readLocalChart(chartPath: string): LocalChart {
    if (!fs.existsSync(chartPath)) throw new Error("no such file or folder");
    let text: string;
    if (fs.statSync(chartPath).isDirectory()) {
        const file = path.join(chartPath, "Chart.yaml");
        if (!fs.existsSync(file)) throw new Error("is a folder without Chart.yaml, so not a Helm chart");
        text = fs.readFileSync(file, "utf8");
    } else {
        // A packaged chart holds <name>/Chart.yaml, and its subcharts' deeper down.
        const entries = tar(["-tzf", chartPath]).split("\n");
        const top = entries.find((e) => /^[^/]+\/Chart\.yaml$/.test(e));
        if (!top) throw new Error("is not a packaged Helm chart (no <name>/Chart.yaml inside)");
        text = tar(["-xzOf", chartPath, top]);
    }
    const chart = yaml.load(text) as Partial<Record<string, unknown>> | undefined;
    if (typeof chart?.name !== "string" || typeof chart.version !== "string") {
        throw new Error("has a Chart.yaml without name and version");
    }
    return { name: chart.name, version: chart.version,
        kubeVersion: typeof chart.kubeVersion === "string" ? chart.kubeVersion : undefined };
}

function tar(args: string[]): string {
    try {
        return execFileSync("tar", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch {
        throw new Error("is neither a folder nor a .tgz that tar can read");
    }
}
