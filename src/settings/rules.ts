// The grammars that stack configuration must follow, each as a predicate that returns
// undefined when the value is fine, or a short sentence saying what is wrong with it.
// Kubernetes' own rules are quoted from k8s.io/apimachinery validation; the image grammar
// is the one of distribution/reference.
import { CronExpressionParser } from "cron-parser";
import { BlockList, isIP } from "net";
import * as path from "path";
import * as semver from "semver";

export type Rule = (value: string) => string | undefined;

const LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";

/** An RFC 1123 label: namespaces, most object names. */
export const dnsLabel: Rule = (v) =>
    v.length <= 63 && new RegExp(`^${LABEL}$`).test(v)
        ? undefined
        : "is not a valid Kubernetes name (lower-case letters, digits and '-', starting and ending " +
          "with a letter or digit, at most 63 characters)";

/** An RFC 1123 subdomain: Secret, PersistentVolume and node names. */
export const dnsSubdomain: Rule = (v) =>
    v.length <= 253 && new RegExp(`^${LABEL}(\\.${LABEL})*$`).test(v)
        ? undefined
        : "is not a valid Kubernetes object name (lower-case letters, digits, '-' and '.', at most " +
          "253 characters)";

/** An RFC 1035 label: Service names, which the chart derives from code-location names. */
export const serviceName: Rule = (v) =>
    v.length <= 63 && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(v)
        ? undefined
        : "is not a valid Kubernetes Service name (lower-case letters, digits and '-', starting " +
          "with a letter, at most 63 characters)";

/** A node name that is also a valid value of the `kubernetes.io/hostname` label. */
export const nodeName: Rule = (v) =>
    dnsSubdomain(v) ??
    (v.length <= 63 ? undefined : "is longer than the 63 characters a node label value may have");

export const envVarName: Rule = (v) =>
    /^[A-Za-z_][A-Za-z0-9_]*$/.test(v)
        ? undefined
        : "is not a valid environment variable name (letters, digits and '_', not starting with a digit)";

/** A storage size as a Kubernetes quantity, e.g. 5Gi or 100G. */
export const storageQuantity: Rule = (v) => {
    const m = /^([0-9]+(\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/.exec(v);
    if (!m) return "is not a Kubernetes quantity such as 5Gi or 100G";
    return Number(m[1]) > 0 ? undefined : "must be larger than zero";
};

/** An absolute, normalised POSIX path. */
export const absolutePath: Rule = (v) => {
    if (!path.posix.isAbsolute(v)) return "is not an absolute path (it must start with '/')";
    const normalised = path.posix.normalize(v);
    return normalised === v || normalised === v.replace(/\/+$/, "")
        ? undefined
        : `is not a normalised path (did you mean ${normalised}?)`;
};

/** A Python module path such as `imqcam` or `my_pkg.definitions`. */
export const pythonModule: Rule = (v) =>
    /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(v)
        ? undefined
        : "is not a Python module path (identifiers separated by '.')";

export const pythonIdentifier: Rule = (v) =>
    /^[A-Za-z_][A-Za-z0-9_]*$/.test(v) ? undefined : "is not a Python identifier";

// distribution/reference: domain (with optional port) and path components.
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?)`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
const REPOSITORY = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const isRepository = (v: string) => REPOSITORY.test(v) && v.length <= 255;

/** An image repository without tag or digest: the program tags and pins the images it builds. */
const imageRepository: Rule = (v) => {
    if (isRepository(v)) return undefined;
    if (REPOSITORY.test(v.replace(/:[\w][\w.-]{0,127}$/, ""))) {
        return "has a tag; give the repository only, the program tags it itself";
    }
    return "is not a valid image repository such as docker.io/openmsi/testing_k8s_dagster";
};

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * A code location's image: a repository the program builds and pushes to, or an image already
 * pushed (by CI, say) and pinned by digest, `repository@sha256:<64 hex>`, which it only runs.
 */
export const codeLocationImage: Rule = (v) => {
    const at = v.indexOf("@");
    if (at < 0) return imageRepository(v);
    const [repository, digest] = [v.slice(0, at), v.slice(at + 1)];
    if (!DIGEST.test(digest)) return `has digest "${digest}"; a pinned image ends in @sha256: and 64 lower-case hex digits`;
    return isRepository(repository) ? undefined
        : `has "${repository}" before its digest, which is not an image repository without tag (such as docker.io/openmsi/testing_k8s_dagster)`;
};

/**
 * A third-party image pinned by digest, as read on a machine that reaches the registry:
 * `host/repository:tag@sha256:<64 hex>`; the tag says which release it is, the digest what runs.
 */
export const pinnedImage: Rule = (v) => {
    const match = /^(.+):([\w][\w.-]{0,127})@(.*)$/.exec(v);
    if (!match) return "is not an image pinned by digest, host/repository:tag@sha256:<64 hex>";
    if (!DIGEST.test(match[3])) return `has digest "${match[3]}"; a pinned image ends in @sha256: and 64 lower-case hex digits`;
    return isRepository(match[1]) && match[1].includes("/") ? undefined
        : `has "${match[1]}" before its tag, which is not an image repository with its registry (such as docker.io/library/postgres)`;
};

/** A registry host, optionally with a port, e.g. docker.io or localhost:5001. */
export const registryServer: Rule = (v) =>
    new RegExp(`^${DOMAIN}$`).test(v) ? undefined : "is not a registry host name such as docker.io or localhost:5001";

/** The lowest Dagster release whose chart pins images by digest and validates offline. */
export const MIN_DAGSTER_VERSION = "1.13.0";

export const dagsterVersion: Rule = (v) => {
    if (!/^[0-9]+\.[0-9]+\.[0-9]+$/.test(v) || !semver.valid(v)) {
        return `is not an exact Dagster release such as ${MIN_DAGSTER_VERSION} (MAJOR.MINOR.PATCH, no range or prefix)`;
    }
    if (semver.major(v) !== 1 || semver.lt(v, MIN_DAGSTER_VERSION)) {
        return (
            `is not supported: this program needs Dagster 1.x from ${MIN_DAGSTER_VERSION} on, whose chart ` +
            "pins images by digest and validates its values without network access"
        );
    }
    return undefined;
};

/** A server's host name or IPv4 address, e.g. sciserver-fs1 or 10.0.0.5. */
export const host: Rule = (v) =>
    (v.length <= 253 && new RegExp(`^${DOMAIN_COMPONENT}(\\.${DOMAIN_COMPONENT})*$`).test(v)) ||
    /^([0-9]{1,3}\.){3}[0-9]{1,3}$/.test(v)
        ? undefined
        : "is not a host name or IPv4 address";

const CRON_FIELDS = ["minute", "hour", "day-of-month", "month", "day-of-week"];

/**
 * A CronJob schedule as Kubernetes takes it (its parser is robfig/cron's standard one): five
 * fields, or a macro such as @daily; each field checked by cron-parser. Where cron-parser is more
 * lenient than Kubernetes, this is stricter: no `L` (last day), and day-of-week 0-6 (cron-parser
 * also takes 7 for Sunday). tests/cron.test.ts holds both to robfig/cron's own verdicts.
 */
export const cronSchedule: Rule = (v) => {
    if (/^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$/.test(v)) return undefined;
    if (/\b(CRON_)?TZ=/.test(v)) return "names a time zone, which Kubernetes refuses in a schedule";
    const field = "[0-9A-Za-z*?/,-]+";
    if (!new RegExp(`^${field}( ${field}){4}$`).test(v.trim()) || v.trim() !== v) {
        return "is not a cron schedule (five fields: minute hour day-of-month month day-of-week, e.g. \"30 2 * * *\")";
    }
    const fields = v.split(" ");
    for (const [i, f] of fields.entries()) {
        const alone = CRON_FIELDS.map((_, j) => (j === i ? f : "*")).join(" ");
        // The numbers of a field's ranges and lists, not its steps (`*/7` is fine).
        const numbers = f.split(",").flatMap((part) => part.split("/")[0].split("-")).filter((n) => /^[0-9]+$/.test(n));
        const tooLate = i === 4 && numbers.some((n) => Number(n) > 6);
        if (/(^|[,/-])[0-9]*L($|[,/-])/i.test(f)) return `has an invalid ${CRON_FIELDS[i]} "${f}": Kubernetes takes no L`;
        if (tooLate) return `has an invalid ${CRON_FIELDS[i]} "${f}": Kubernetes takes 0-6 (0 is Sunday)`;
        try {
            CronExpressionParser.parse(alone);
        } catch (e) {
            return `has an invalid ${CRON_FIELDS[i]} "${f}" (${(e as Error).message})`;
        }
    }
    return undefined;
};

/** CPU as Kubernetes writes it: cores (0.5, 2) or millicores (500m). */
export const cpuQuantity: Rule = (v) => {
    const m = /^([0-9]+(\.[0-9]{1,3})?|[0-9]+m)$/.exec(v);
    if (!m) return "is not a CPU quantity such as 500m or 2";
    return parseCpu(v) > 0 ? undefined : "must be larger than zero";
};

/** Millicores of a valid CPU quantity. */
export function parseCpu(v: string): number {
    return v.endsWith("m") ? Number(v.slice(0, -1)) : Math.round(Number(v) * 1000);
}

const BYTE_UNITS: Record<string, number> = {
    "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** Memory as Kubernetes writes it: 512Mi, 2Gi, 1G. */
export const memoryQuantity: Rule = (v) => {
    const m = /^([0-9]+(\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(v);
    if (!m) return "is not a memory quantity such as 512Mi or 2Gi";
    return Number(m[1]) > 0 ? undefined : "must be larger than zero";
};

/** Bytes of a valid memory or storage quantity (also as the API server writes a volume's capacity). */
export function parseBytes(v: string): number {
    const m = /^([0-9]+(\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/.exec(v)!;
    return Number(m[1]) * BYTE_UNITS[m[3] ?? ""];
}

/** An IPv4 or IPv6 block in CIDR notation (an IPv4 one written from its first address), e.g. 10.0.0.0/8. */
export const cidr: Rule = (v) => {
    const [address, prefix, ...rest] = v.split("/");
    const family = isIP(address ?? "");
    const bits = family === 4 ? 32 : 128;
    if (!family || rest.length || !/^[0-9]{1,3}$/.test(prefix ?? "") || Number(prefix) > bits) {
        return "is not an address block in CIDR notation, such as 10.0.0.0/8 or 192.168.1.20/32";
    }
    if (family === 4) {
        const value = address.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
        const hostBits = 2 ** (32 - Number(prefix));
        if (value % hostBits !== 0) {
            const network = value - (value % hostBits);
            const dotted = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join(".");
            return `is not the block's first address (did you mean ${dotted}/${prefix}?)`;
        }
    }
    return undefined;
};

/** Whether block `inner` lies inside block `outer`, both valid by `cidr`. */
export function cidrWithin(inner: string, outer: string): boolean {
    const [a, p] = inner.split("/");
    const [oa, op] = outer.split("/");
    const family = isIP(oa) === 4 ? "ipv4" : "ipv6";
    if (isIP(a) !== isIP(oa) || Number(p) <= Number(op)) return false;
    const list = new BlockList();
    list.addSubnet(oa, Number(op), family);
    return list.check(a, family);
}

/** A password rotation's label (src/components/credentials.ts): any new one rotates; the date reads well. */
export const rotationLabel: Rule = (v) =>
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(v)
        ? undefined
        : "is not a rotation label (letters, digits, '.', '_' and '-', starting with a letter or digit, " +
          "at most 63 characters), e.g. today's date";
