// The settings of where the stack runs and what it takes: the nodes, the IO share and its writer,
// the data volumes, envSecrets, backups, password rotation and the run and step pods' sizes.
import * as pulumi from "@pulumi/pulumi";
import { DataVolumeSettings } from "../components/dataVolumes";
import { EnvSecretSettings } from "../components/envSecrets";
import { HostPathSource, IoVolumeSettings, NfsSource } from "../components/ioVolume";
import { ComputeResources } from "../components/parts/computeSizes";
import { ShareWriter, USER_CODE_USER } from "../components/parts/podSecurity";
import { configRm, configSet } from "../problem";
import { BuildSettingsReader } from "./buildSettings";
import { Json } from "./reader";
import * as rules from "./rules";
import { BackupSettings, DEFAULT_BACKUP_SCHEDULE, DEFAULT_BACKUPS_KEPT, DEFAULT_DATA_SIZE, DEFAULT_IO_MOUNT_PATH,
    DEFAULT_IO_SIZE, PasswordRotation } from "./types";

/** The project's settings, read field by field (reader.ts has the building blocks). */
export class SettingsReader extends BuildSettingsReader {
    nodeHostnames(): string[] {
        const value = this.raw["nodeHostname"];
        const fix = configSet("nodeHostname");
        if (value === undefined || value.trim() === "" || value.trim() === "[]") return [];
        let names: Json = value;
        if (value.trim().startsWith("[")) names = this.json("nodeHostname", value) ?? [];
        const list = Array.isArray(names) ? names : [names];
        const result: string[] = [];
        list.forEach((name, i) => {
            const key = Array.isArray(names) ? `nodeHostname[${i}]` : "nodeHostname";
            if (typeof name !== "string") {
                this.report(key, "is not a node name", fix);
            } else if (result.includes(name)) {
                this.report(key, `names node "${name}" twice`, configRm(key));
            } else if (this.check(key, name, rules.nodeName, fix) !== undefined) {
                result.push(name);
            }
        });
        return result;
    }

    ioVolume(): IoVolumeSettings | undefined {
        const o = this.object("ioVolume", ["nfs", "hostPath", "size", "mountPath", "writer"],
            configSet("ioVolume.nfs.server", "sciserver-fs1"));
        if (!o) return undefined;
        const size = this.optionalString(o, "ioVolume", "size", rules.storageQuantity, DEFAULT_IO_SIZE);
        const mountPath = this.optionalString(o, "ioVolume", "mountPath", rules.absolutePath, DEFAULT_IO_MOUNT_PATH);
        const sources = ["nfs", "hostPath"].filter((k) => o[k] !== undefined);
        if (sources.length !== 1) {
            this.report("ioVolume", sources.length === 0
                ? "names no storage: set either ioVolume.nfs (server and path) or ioVolume.hostPath (path)"
                : "names both nfs and hostPath: keep exactly one",
            sources.length === 0
                ? `${configSet("ioVolume.nfs.server")} && ${configSet("ioVolume.nfs.path")}`
                : configRm("ioVolume.hostPath"));
            return undefined;
        }
        let source: NfsSource | HostPathSource | undefined;
        if (sources[0] === "nfs") {
            const nfs = this.object("ioVolume.nfs", ["server", "path"], configRm("ioVolume.nfs"), o.nfs);
            const server = nfs && this.requiredString(nfs, "ioVolume.nfs", "server", rules.host, "sciserver-fs1");
            const exportPath = nfs && this.requiredString(nfs, "ioVolume.nfs", "path", rules.absolutePath, "/srv/export/path");
            if (server && exportPath) source = { kind: "nfs", server, path: exportPath };
        } else {
            const hostPath = this.object("ioVolume.hostPath", ["path"], configRm("ioVolume.hostPath"), o.hostPath);
            const hostDir = hostPath && this.requiredString(hostPath, "ioVolume.hostPath", "path", rules.absolutePath, "/var/local-data/dagster-io");
            if (hostDir) source = { kind: "hostPath", path: hostDir };
        }
        const writer = o.writer === undefined ? USER_CODE_USER : this.shareWriter(o.writer);
        return source && size && mountPath && writer ? { source, size, mountPath, writer } : undefined;
    }

    /** `ioVolume.writer`: {uid, gid}, neither root: nothing the stack runs writes on the share as root. */
    private shareWriter(value: Json): ShareWriter | undefined {
        const o = this.object("ioVolume.writer", ["uid", "gid"], configRm("ioVolume.writer"), value);
        if (!o) return undefined;
        const id = (field: "uid" | "gid") => {
            const n = Number(o[field]);
            if (Number.isInteger(n) && n >= 1 && n <= 2147483647) return n;
            this.report(`ioVolume.writer.${field}`, o[field] === undefined ? "is not set"
                : `"${o[field]}" is not a ${field} from 1 to 2147483647 (unset, the share's writer is ${USER_CODE_USER.uid}:${USER_CODE_USER.gid}, the user-code image's user); ` +
                "give the share owner's, which npm run take-over -- --stack <stack> --dry-run prints",
            configSet(`ioVolume.writer.${field}`));
            return undefined;
        };
        const uid = id("uid"), gid = id("gid");
        return uid && gid ? { uid, gid } : undefined;
    }

    envSecrets(storedAsSecret: boolean): EnvSecretSettings[] {
        const value = this.raw["envSecrets"];
        if (value === undefined) return [];
        const all = this.object("envSecrets", undefined, configRm("envSecrets"));
        if (!all) return [];
        if (!storedAsSecret && Object.keys(all).length > 0) {
            // Say nothing of the values themselves: they are what must not be printed. Each set
            // prompts for its value, which the CLI then encrypts.
            const again = Object.entries(all).flatMap(([name, vars]) => vars !== null && typeof vars === "object"
                ? Object.keys(vars).map((v) => configSet(`envSecrets.${name}.${v}`, undefined, true)) : []);
            this.report("envSecrets", "is stored in plain text in the stack file; it must be encrypted: " +
                "remove it, then set each value again with --secret", [configRm("envSecrets"), ...again].join(" && "));
        }
        const result: EnvSecretSettings[] = [];
        for (const [name, entry] of Object.entries(all)) {
            const key = `envSecrets.${name}`;
            this.check(key, name, rules.dnsSubdomain, configRm(key));
            const vars = this.object(key, undefined, configRm(key), entry);
            if (!vars) continue;
            if (Object.keys(vars).length === 0) {
                this.report(key, "has no variables", configRm(key));
            }
            const data: Record<string, string> = {};
            for (const [variable, v] of Object.entries(vars)) {
                const varKey = `${key}.${variable}`;
                this.check(varKey, variable, rules.envVarName, configRm(varKey));
                if (v === null || typeof v === "object" || String(v) === "") {
                    this.report(varKey, "has no value (it must be a non-empty string)",
                        configSet(varKey, undefined, true));
                } else {
                    data[variable] = String(v);
                }
            }
            result.push({ name, keys: Object.keys(data).sort(), data: pulumi.secret(data) });
        }
        return result;
    }

    dataVolume(key: "postgresqlVolume" | "rabbitmqVolume"): DataVolumeSettings | undefined {
        const o = this.raw[key] === undefined ? {} : this.object(key, ["storageClass", "size"], configSet(`${key}.size`, "100Gi"));
        if (!o) return undefined;
        const size = this.optionalString(o, key, "size", rules.storageQuantity, DEFAULT_DATA_SIZE);
        const storageClass = this.optionalString(o, key, "storageClass", rules.dnsSubdomain, undefined);
        return size ? { size, storageClass } : undefined;
    }

    backups(): BackupSettings | undefined {
        const o = this.raw["backups"] === undefined ? {} : this.object("backups", ["schedule", "keep"], configSet("backups.keep", 14));
        if (!o) return undefined;
        const schedule = this.optionalString(o, "backups", "schedule", rules.cronSchedule, DEFAULT_BACKUP_SCHEDULE);
        const keep = this.optionalInteger(o, "backups", "keep", 1, 365, DEFAULT_BACKUPS_KEPT);
        return keep !== undefined ? { schedule, keep } : undefined;
    }

    /** `passwordRotation.postgresql`/`.rabbitmq`: labels; a new one rotates that generated password. */
    passwordRotation(): PasswordRotation {
        const key = "passwordRotation";
        const o = this.raw[key] === undefined ? {} : this.object(key, ["postgresql", "rabbitmq"],
            configSet(`${key}.postgresql`, "2026-12-02")) ?? {};
        const label = (server: string) => o[server] === undefined || o[server] === null ? undefined
            : this.check(`${key}.${server}`, String(o[server]), rules.rotationLabel, configSet(`${key}.${server}`, "2026-12-02"));
        return { postgresql: label("postgresql"), rabbitmq: label("rabbitmq") };
    }

    /** {requests: {cpu, memory}, limits: {cpu, memory}}, each request at most its limit. */
    resources(key: "runPodResources" | "stepPodResources", fallback: ComputeResources): ComputeResources | undefined {
        if (this.raw[key] === undefined) return fallback;
        const fix = configSet(`${key}.limits.memory`, fallback.limits.memory);
        const o = this.object(key, ["requests", "limits"], fix);
        if (!o) return undefined;
        const part = (name: "requests" | "limits") => {
            const inner = this.object(`${key}.${name}`, ["cpu", "memory"], fix, o[name] ?? {});
            if (!inner) return undefined;
            const cpu = this.optionalString(inner, `${key}.${name}`, "cpu", rules.cpuQuantity, fallback[name].cpu);
            const memory = this.optionalString(inner, `${key}.${name}`, "memory", rules.memoryQuantity, fallback[name].memory);
            return { cpu, memory };
        };
        const requests = part("requests");
        const limits = part("limits");
        if (!requests || !limits || this.problems.some((p) => p.key.startsWith(`${key}.`))) return undefined;
        for (const what of ["cpu", "memory"] as const) {
            const parse = what === "cpu" ? rules.parseCpu : rules.parseBytes;
            if (parse(requests[what]) > parse(limits[what])) {
                this.report(`${key}.requests.${what}`, `"${requests[what]}" is more than its limit "${limits[what]}"`,
                    configSet(`${key}.requests.${what}`, limits[what]));
            }
        }
        return { requests, limits };
    }
}
