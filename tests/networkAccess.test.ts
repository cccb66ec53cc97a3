// The stack's NetworkPolicies under Pulumi's mocks: built from networkAccess.ts's one table, with
// the `network` setting's API server and user-code peers. Who reaches whom is asserted pair by
// pair by a policy analyser in tests/cluster/test_network_policies.py, and enforced on a real
// node in tests/node/test_network_policies.py.
import * as assert from "assert";
import { DEFAULT_NETWORK_ACCESS, podRoles } from "../src/components/parts/networkAccess";
import { ofType, Run, runProgram, T, unwrap } from "./harness/mockProgram";
import { stackPodNames } from "../src/stack";
import { KDE04_SECRETS } from "./fixtures";

const policies = (run: Run): Record<string, any> => Object.fromEntries(
    ofType(run, T.networkPolicy).map((r) => { const p = unwrap(r.inputs) as any; return [p.metadata.name, p.spec]; }));

/** Whether a pod with `labels` is selected by `matchLabels`. */
const selects = (matchLabels: Record<string, string>, labels: Record<string, string>) =>
    Object.entries(matchLabels).every(([k, v]) => labels[k] === v);

describe("network isolation", () => {
    let run: Run;
    before(async () => { run = await runProgram({ overrides: KDE04_SECRETS }); });

    it("denies every pod of the namespace all traffic both ways unless a policy allows it", () => {
        assert.deepStrictEqual(policies(run)["deny-all"], { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    });

    it("selects each of the program's own pods by the labels its template carries, and no other", () => {
        const roles = podRoles("dagster", stackPodNames());
        const templates: Record<string, Record<string, string>> = {};
        for (const r of ofType(run, T.statefulSet)) templates[r.name] = (unwrap(r.inputs) as any).spec.template.metadata.labels;
        for (const r of ofType(run, T.job)) templates[r.name] = (unwrap(r.inputs) as any).spec.template.metadata.labels;
        for (const r of ofType(run, T.cronJob)) templates[r.name] = (unwrap(r.inputs) as any).spec.jobTemplate.spec.template.metadata.labels;
        const roleOf: Record<string, keyof typeof roles> = {
            "postgresql": "postgresql", "rabbitmq": "rabbitmq", "instance-migration": "instanceMigration",
            "database-backups": "databaseBackups", "compute-log-pruning": "computeLogPruning",
        };
        assert.deepStrictEqual(Object.keys(templates).sort(), Object.keys(roleOf).sort(), "every pod the program runs has a role");
        for (const [template, labels] of Object.entries(templates)) {
            const matching = Object.entries(roles).filter(([, r]) => selects(r.selector, labels)).map(([role]) => role);
            assert.deepStrictEqual(matching, [roleOf[template]], template);
        }
    });

    it("lets out of the namespace only DNS, the API server for the pods that call it, and user code's peers", () => {
        const specs = policies(run);
        const outside = Object.entries(specs).flatMap(([name, spec]) => (spec.egress ?? [])
            .filter((rule: any) => !rule.to || rule.to.some((peer: any) => peer.ipBlock || peer.namespaceSelector))
            .map((rule: any) => `${name} ${rule.ports ? rule.ports.map((p: any) => p.port).join(",") : "any port"}`)).sort();
        assert.deepStrictEqual(outside, [
            "celery-workers-egress 443,6443", "code-servers-egress any port", "daemon-egress 443,6443", "dns 53,53",
            "run-pods-egress 443,6443", "run-pods-egress any port", "step-pods-egress any port", "webserver-egress 443,6443",
        ]);
    });

    it("narrows the API server and user code's peers to what the network setting names", async () => {
        const narrowed = await runProgram({ overrides: { ...KDE04_SECRETS, network: { value: {
            apiServer: { cidrs: ["10.20.0.5/32"], ports: [6443] },
            userCodeEgress: [{ cidr: "0.0.0.0/0", except: ["10.0.0.0/8"], ports: [443] }, { namespace: "kafka", ports: [9092] }],
        } } } });
        const specs = policies(narrowed);
        assert.deepStrictEqual(specs["daemon-egress"].egress.at(-1),
            { to: [{ ipBlock: { cidr: "10.20.0.5/32" } }], ports: [{ protocol: "TCP", port: 6443 }] });
        assert.deepStrictEqual(specs["step-pods-egress"].egress.slice(1), [
            { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8"] } }], ports: [{ protocol: "TCP", port: 443 }] },
            { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kafka" } } }],
                ports: [{ protocol: "TCP", port: 9092 }] },
        ]);
        assert.notDeepStrictEqual(DEFAULT_NETWORK_ACCESS.userCodeEgress, [], "the default lets user code out");
    });
});
