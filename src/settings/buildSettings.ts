// The settings of what is built and run: the code locations and the registry they are pushed to,
// the Dagster version, the chart and the third-party images; and the files they name (a code
// location's lock and Dockerfile, a chart file).
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { LocalChart, readLocalChart } from "../chart/source";
import { ChartSource } from "../components/dagsterRelease";
import { DEFAULT_IMAGES, dagsterImage, ThirdPartyImages } from "../components/parts/images";
import { CodeLocationSettings, RegistrySettings } from "../components/userCodeImage";
import { configRm, configSet } from "../problem";
import { ConfigReader } from "./reader";
import * as rules from "./rules";

/** What is built and run, read field by field (reader.ts has the building blocks). */
export class BuildSettingsReader extends ConfigReader {
    /** `images`: any third-party image pinned by digest, `repository:tag@sha256:<hex>`. */
    images(dagsterVersion: string | undefined): ThirdPartyImages | undefined {
        // The digest is the registry's to tell (README, "Pinning images"): the CLI prompts for the value.
        const o = this.raw["images"] === undefined ? {} : this.object("images",
            ["postgresql", "rabbitmq", "busybox", "chartWait", "dagster"], configRm("images"));
        if (!o) return undefined;
        const fix = (key: string) => configSet(`images.${key}`);
        const pinned = (key: string, tagged: string): string | undefined => o[key] === undefined || o[key] === null
            ? tagged : this.check(`images.${key}`, String(o[key]), (v) => {
                const wrong = rules.pinnedImage(v);
                return wrong && `${wrong}, e.g. ${tagged}@sha256:<digest>`;
            }, fix(key));
        const dagsterTagged = dagsterImage(dagsterVersion ?? "<dagsterVersion>");
        const dagster = pinned("dagster", dagsterTagged);
        const [dagsterName, dagsterDigest] = (dagster ?? "").split("@");
        if (dagster && dagsterDigest && dagsterName !== dagsterTagged) {
            this.report("images.dagster", `"${dagster}" is not ${dagsterTagged} pinned; the chart runs that image ` +
                "at dagsterVersion, so only its digest can be given", fix("dagster"));
        }
        const result = {
            postgresql: pinned("postgresql", DEFAULT_IMAGES.postgresql), rabbitmq: pinned("rabbitmq", DEFAULT_IMAGES.rabbitmq),
            busybox: pinned("busybox", DEFAULT_IMAGES.busybox), chartWait: pinned("chartWait", DEFAULT_IMAGES.chartWait),
        };
        if (!dagster || Object.values(result).includes(undefined)) return undefined;
        return { ...(result as Omit<ThirdPartyImages, "dagsterDigest">), ...(dagsterDigest ? { dagsterDigest } : {}) };
    }

    codeLocations(projectDir: string): CodeLocationSettings[] {
        const value = this.raw["codeLocations"];
        const list = value === undefined ? undefined : this.json("codeLocations", value);
        if (!Array.isArray(list) || list.length === 0) {
            // The example code location of this repository, field by field.
            const example = { name: "imqcam-example-1", module: "imqcam", attribute: "defs", port: 3030,
                image: "docker.io/openmsi/testing_k8s_dagster", context: "code-locations/imqcam" };
            this.report("codeLocations", "must be a non-empty list of code locations",
                Object.entries(example).map(([field, v]) => configSet(`codeLocations[0].${field}`, v)).join(" && "));
            return [];
        }
        const result: CodeLocationSettings[] = [];
        list.forEach((entry, i) => {
            const key = `codeLocations[${i}]`;
            const o = this.object(key, ["name", "module", "attribute", "port", "image", "context"], configRm(key), entry);
            if (!o) return;
            const name = this.requiredString(o, key, "name", rules.serviceName, "imqcam-example-1");
            const module = this.requiredString(o, key, "module", rules.pythonModule, "imqcam");
            const attribute = this.requiredString(o, key, "attribute", rules.pythonIdentifier, "defs");
            const image = this.requiredString(o, key, "image", rules.codeLocationImage, "docker.io/openmsi/testing_k8s_dagster");
            const [repository, pushedDigest] = (image ?? "").split("@");
            let context: string | undefined;
            if (!pushedDigest) {
                context = this.requiredString(o, key, "context", buildContext(projectDir), "code-locations/imqcam");
            } else if (o.context !== undefined) {
                this.report(`${key}.context`, `is set, but ${key}.image is pinned by digest, so nothing is built; ` +
                    "keep one: a folder to build, or an image already pushed", configRm(`${key}.context`));
            }
            const port = Number(o.port);
            if (!Number.isInteger(port) || port < 1 || port > 65535) {
                this.report(`${key}.port`, "is not a port number from 1 to 65535", configSet(`${key}.port`, 3030));
            }
            for (const earlier of result) {
                if (earlier.name === name) {
                    this.report(`${key}.name`, `"${name}" is used by another code location; names must be unique`,
                        configSet(`${key}.name`, `${name}-2`));
                }
                if (earlier.port === port) {
                    this.report(`${key}.port`, `${port} is used by code location "${earlier.name}"; ports must be unique`,
                        configSet(`${key}.port`, port + 1));
                }
            }
            if (name && module && attribute && image && (context || pushedDigest) && Number.isInteger(port)) {
                result.push({ name, module, attribute, port, image: repository,
                    ...(pushedDigest ? { pushedDigest } : { build: { context: context!, dockerfile: `${context}/Dockerfile` } }) });
            }
        });
        return result;
    }

    registry(passwordStoredAsSecret: boolean): RegistrySettings | undefined {
        const o = this.object("registry", ["server", "username", "private"], configSet("registry.server", "docker.io"));
        if (!o) return undefined;
        const server = this.requiredString(o, "registry", "server", rules.registryServer, "docker.io");
        const username = this.optionalString(o, "registry", "username", (v) => (v.trim() ? undefined : "is empty"), undefined);
        const isPrivate = o.private === undefined ? false : o.private === true || o.private === "true";
        if (o.private !== undefined && typeof o.private !== "boolean" && !["true", "false"].includes(String(o.private))) {
            this.report("registry.private", "is not true or false", configSet("registry.private", "true"));
        }
        const rawPassword = this.raw["registryPassword"];
        const fixPassword = configSet("registryPassword", undefined, true);
        if (rawPassword !== undefined && !passwordStoredAsSecret) {
            this.report("registryPassword", "is stored in plain text in the stack file; it must be encrypted",
                `${configRm("registryPassword")} && ${fixPassword}`);
        } else if (rawPassword === "") {
            this.report("registryPassword", "is empty", fixPassword);
        }
        if (username && rawPassword === undefined) {
            this.report("registryPassword", `is not set, but registry.username "${username}" needs it to push`, fixPassword);
        }
        if (!username && rawPassword !== undefined) {
            this.report("registry.username", "is not set, but registryPassword is", configSet("registry.username"));
        }
        if (isPrivate && (!username || rawPassword === undefined)) {
            this.report("registry.private", "is true, so the cluster needs registry.username and registryPassword to pull",
                `${configSet("registry.username")} && ${fixPassword}`);
        }
        if (!server) return undefined;
        return {
            server,
            username,
            password: rawPassword ? pulumi.secret(rawPassword) : undefined,
            private: isPrivate,
        };
    }

    /**
     * dagsterVersion: Pulumi.yaml's, set by `npm run lock -- --dagster-version`, never by a stack.
     * The fix sets it to the version the code location's lock installs, else the lowest supported.
     */
    dagsterVersion(locked: string | null | undefined): string | undefined {
        return this.check("dagsterVersion", this.raw["dagsterVersion"] ?? "", rules.dagsterVersion,
            `npm run lock -- --dagster-version ${locked ?? rules.MIN_DAGSTER_VERSION}`);
    }

    /** dagsterChart: a chart file (.tgz) or folder of this project or machine, for its version. */
    chartSource(projectDir: string, dagsterVersion: string | undefined): ChartSource | undefined {
        const value = this.raw["dagsterChart"];
        if (value === undefined || value === "") return { kind: "repository" };
        // Without a chart file of the right version at hand, the chart repository is the way out.
        const fix = dagsterVersion ? configSet("dagsterChart", `./charts/dagster-${dagsterVersion}.tgz`) : configRm("dagsterChart");
        let chart: LocalChart;
        try {
            chart = readLocalChart(path.resolve(projectDir, value));
        } catch (e) {
            this.report("dagsterChart", `"${value}": ${(e as Error).message}`, fix);
            return undefined;
        }
        if (chart.name !== "dagster") {
            this.report("dagsterChart", `"${value}" is the chart "${chart.name}", not "dagster"`, fix);
        } else if (dagsterVersion && chart.version !== dagsterVersion) {
            this.report("dagsterChart", `"${value}" is chart version ${chart.version}, and dagsterVersion is ${dagsterVersion}; ` +
                "the chart, the Celery workers and the user code must run one Dagster (or, for every stack, " +
                `npm run lock -- --dagster-version ${chart.version})`, fix);
        }
        return { kind: "local", path: value, kubeVersion: chart.kubeVersion };
    }
}

/** A code location's dependency lock (`npm run lock`), beside its Dockerfile. */
export const LOCK_FILE = "requirements.lock";

/** The `dagster==X` a lock pins; undefined without a lock, null if it pins none. */
export function lockedDagsterVersion(file: string): string | null | undefined {
    if (!fs.existsSync(file)) return undefined;
    const match = /^dagster==([^\s\\;]+)/m.exec(fs.readFileSync(file, "utf8"));
    return match ? match[1] : null;
}

/** A build context: a relative folder with a Dockerfile, so builds are the same on every machine. */
function buildContext(projectDir: string): rules.Rule {
    return (v) => {
        if (path.isAbsolute(v)) return "is an absolute path; give it relative to the project folder";
        const dir = path.join(projectDir, v);
        if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return "is not a folder in the project";
        if (!fs.existsSync(path.join(dir, "Dockerfile"))) return "has no Dockerfile";
        return undefined;
    };
}
