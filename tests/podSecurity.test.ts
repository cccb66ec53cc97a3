// The program's own pods on a shared cluster: Pod Security Admission on the namespace, no
// ServiceAccount token, the runtime's seccomp profile, no privileges, and the database and broker
// as their images' own users. tests/cluster admits them under the namespace's level on a real API
// server; tests/node runs them so on a real node.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { NO_PRIVILEGES, POD_SECURITY_LABELS, SERVER_USER, USER_CODE_USER } from "../src/components/parts/podSecurity";
import { one, ofType, releaseValuesOf, Run, runProgram, T, unwrap } from "./harness/mockProgram";
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

/** Every pod that writes on the IO share (the Jobs, code servers, run and step pods) runs as uid:gid. */
function assertSharedWritersRunAs(run: Run, uid: number, gid: number): void {
    const user = { runAsNonRoot: true, runAsUser: uid, runAsGroup: gid };
    const writers = podSpecs(run).filter(([n]) => !["postgresql", "rabbitmq"].includes(n));
    assert.strictEqual(writers.length, 3);
    for (const [name, spec] of writers) {
        assert.deepStrictEqual(spec.securityContext, { seccompProfile: { type: "RuntimeDefault" }, ...user, fsGroup: gid,
            fsGroupChangePolicy: "OnRootMismatch" }, name);
    }
    const codeServer = releaseValuesOf(run)["dagster-user-deployments"].deployments[0];
    assert.deepStrictEqual(codeServer.podSecurityContext, { seccompProfile: { type: "RuntimeDefault" }, ...user });
    const jobConfigs = codeServer.env.filter((e: any) => e.name.startsWith("IMQCAM_K8S_"));
    assert.strictEqual(jobConfigs.length, 2, "run and step Jobs");
    for (const e of jobConfigs) {
        assert.deepStrictEqual(JSON.parse(e.value).pod_spec_config.security_context, {
            seccomp_profile: { type: "RuntimeDefault" }, run_as_non_root: true, run_as_user: uid, run_as_group: gid }, e.name);
    }
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

    it("gives every container a read-only root file system: each writes only on its volumes", () => {
        const specs = podSpecs(run);
        assert.strictEqual(specs.length, 5);
        for (const [name, spec] of specs) {
            for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
                assert.strictEqual(c.securityContext.readOnlyRootFilesystem, true, `${name}/${c.name}`);
            }
        }
    });

    it("gives the database and the broker empty folders of their own where they write beside their data", () => {
        const scratch = (name: string) => {
            const spec = podSpecs(run).find(([n]) => n === name)![1];
            const empty = spec.volumes.filter((v: any) => v.emptyDir).map((v: any) => v.name);
            return Object.fromEntries(spec.containers[0].volumeMounts
                .filter((m: any) => empty.includes(m.name)).map((m: any) => [m.mountPath, m.name]));
        };
        assert.deepStrictEqual(scratch("postgresql"), { "/var/run/postgresql": "run", "/tmp": "tmp" });
        assert.deepStrictEqual(scratch("rabbitmq"), { "/tmp": "tmp", "/var/log/rabbitmq": "log" });
    });

    it("runs the database and the broker as their images' own user, which owns their data volume", () => {
        const servers = podSpecs(run).filter(([name]) => name === "postgresql" || name === "rabbitmq");
        assert.strictEqual(servers.length, 2);
        for (const [name, spec] of servers) {
            assert.deepStrictEqual(spec.securityContext, { seccompProfile: { type: "RuntimeDefault" }, runAsNonRoot: true,
                runAsUser: SERVER_USER, runAsGroup: SERVER_USER, fsGroup: SERVER_USER, fsGroupChangePolicy: "OnRootMismatch" }, name);
        }
        assert.strictEqual(SERVER_USER, 999, "the official postgres and rabbitmq images' uid and gid");
    });

    it("runs what writes on the IO share as the user-code image's user when ioVolume.writer is unset", () => {
        assertSharedWritersRunAs(run, 10001, 10001);
    });

    it("names the same user as the user-code image's Dockerfile, by number", () => {
        const dockerfile = fs.readFileSync(path.join(__dirname, "..", "code-locations", "imqcam", "Dockerfile"), "utf8");
        const users = [...dockerfile.matchAll(/^USER\s+(\S+)\s*$/gm)].map((m) => m[1]);
        assert.deepStrictEqual(users, [`${USER_CODE_USER.uid}:${USER_CODE_USER.gid}`],
            "one USER, numeric (the kubelet checks runAsNonRoot against it), the stack's default writer");
    });

    it("hardens the chart's pods through the Release values: seccomp, no privilege gain, no capability", () => {
        const v = releaseValuesOf(run);
        const seccomp = { seccompProfile: { type: "RuntimeDefault" } };
        const none = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };
        const components: Array<[string, any]> = [["daemon", v.dagsterDaemon], ["Celery workers", v.runLauncher.config.celeryK8sRunLauncher],
            ...v["dagster-user-deployments"].deployments.map((d: any): [string, any] => [d.name, d])];
        for (const [name, c] of components) {
            // Code servers also run as the share's writer (below); the rest keep their image's user.
            const { runAsNonRoot, runAsUser, runAsGroup, ...rest } = c.podSecurityContext;
            assert.deepStrictEqual(rest, seccomp, name);
            assert.deepStrictEqual(c.securityContext, none, name);
        }
        assert.deepStrictEqual(v.dagsterWebserver.podSecurityContext, seccomp);
        // It listens on port 80: the one capability it keeps.
        assert.deepStrictEqual(v.dagsterWebserver.securityContext,
            { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } });
    });

    it("runs what writes on the IO share as ioVolume.writer: code servers, run and step pods, backups, log pruning", async () => {
        const writer = await runProgram({ overrides: { ...KDE04_SECRETS, ioVolume: { value: {
            nfs: { server: "sciserver-fs1", path: "/srv/vc_crypt/IMQCAM/dagster_filesystem_io" }, writer: { uid: 1000, gid: 100 } } } } });
        assertSharedWritersRunAs(writer, 1000, 100);
        const v = releaseValuesOf(writer);
        // Pods that only read the share, or not at all, keep their image's user.
        assert.strictEqual(v.dagsterDaemon.podSecurityContext.runAsUser, undefined);
        assert.strictEqual(v.runLauncher.config.celeryK8sRunLauncher.podSecurityContext.runAsUser, undefined);
    });

    it("hardens run and step Jobs through their dagster-k8s/config, with a token only for run pods", () => {
        const env = Object.fromEntries(releaseValuesOf(run)["dagster-user-deployments"].deployments[0].env
            .map((e: any) => [e.name, e.value]));
        for (const [key, token] of [["IMQCAM_K8S_JOB_CONFIG", true], ["IMQCAM_K8S_STEP_CONFIG", false]] as const) {
            const config = JSON.parse(env[key]);
            assert.deepStrictEqual(config.container_config.security_context,
                { allow_privilege_escalation: false, capabilities: { drop: ["ALL"] } }, key);
            assert.deepStrictEqual(config.pod_spec_config.security_context, { seccomp_profile: { type: "RuntimeDefault" },
                run_as_non_root: true, run_as_user: 10001, run_as_group: 10001 }, key);
            assert.strictEqual(config.pod_spec_config.automount_service_account_token, token, key);
        }
    });
});
