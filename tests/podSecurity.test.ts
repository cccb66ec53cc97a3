// The program's own pods on a shared cluster: Pod Security Admission on the namespace, no
// ServiceAccount token, the runtime's seccomp profile, no privileges, and the database and broker
// as their images' own users. tests/cluster admits them under the namespace's level on a real API
// server; tests/node runs them so on a real node.
import * as assert from "assert";
import { hardenedPod, NO_PRIVILEGES, POD_SECURITY_LABELS, SERVER_USER } from "../components/podSecurity";
import { one, ofType, Run, runProgram, T, unwrap } from "../scripts/mockProgram";
import { KDE04_SECRETS } from "./fixtures";

/** [what, pod spec] of every pod template the program sends. */
function podSpecs(run: Run): Array<[string, any]> {
    const of = (type: string, spec: (o: any) => any) =>
        ofType(run, type).map((r): [string, any] => [r.name, spec(unwrap(r.inputs))]);
    return [
        ...of(T.statefulSet, (o) => o.spec.template.spec),
        ...of(T.job, (o) => o.spec.template.spec),
        ...of(T.cronJob, (o) => o.spec.jobTemplate.spec.template.spec),
    ];
}

describe("pod security", () => {
    let run: Run;
    before(async () => { run = await runProgram({ overrides: KDE04_SECRETS }); });

    it("enforces baseline on the namespace and warns and audits at restricted", () => {
        const namespace = unwrap(one(run, T.namespace).inputs) as any;
        assert.deepStrictEqual(namespace.metadata.labels, {
            "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
        });
        assert.deepStrictEqual(namespace.metadata.labels, POD_SECURITY_LABELS);
    });

    it("gives no pod a ServiceAccount token and every pod the runtime's seccomp profile", () => {
        const specs = podSpecs(run);
        assert.deepStrictEqual(specs.map(([name]) => name).sort(), [
            "compute-log-pruning", "database-backups", "instance-migration", "postgresql", "rabbitmq"].sort(),
        "every pod the program runs: a new one must be hardened too");
        for (const [name, spec] of specs) {
            assert.strictEqual(spec.automountServiceAccountToken, false, name);
            assert.deepStrictEqual(spec.securityContext.seccompProfile, { type: "RuntimeDefault" }, name);
        }
    });

    it("lets no container gain privileges or keep a capability", () => {
        for (const [name, spec] of podSpecs(run)) {
            for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
                assert.strictEqual(c.securityContext?.allowPrivilegeEscalation, false, `${name}/${c.name}`);
                assert.deepStrictEqual(c.securityContext?.capabilities, { drop: ["ALL"] }, `${name}/${c.name}`);
            }
        }
        assert.deepStrictEqual(NO_PRIVILEGES, { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    });

    it("runs the database and the broker as their images' own user, which owns their data volume", () => {
        const servers = podSpecs(run).filter(([name]) => name === "postgresql" || name === "rabbitmq");
        assert.strictEqual(servers.length, 2);
        for (const [name, spec] of servers) {
            assert.deepStrictEqual(spec.securityContext, { seccompProfile: { type: "RuntimeDefault" }, runAsNonRoot: true,
                runAsUser: SERVER_USER, runAsGroup: SERVER_USER, fsGroup: SERVER_USER }, name);
        }
        assert.strictEqual(SERVER_USER, 999, "the official postgres and rabbitmq images' uid and gid");
        // The Jobs keep their image's user: they write on the IO share, whose owner the export decides.
        assert.deepStrictEqual(hardenedPod().securityContext, { seccompProfile: { type: "RuntimeDefault" } });
    });
});
