import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { NetworkAccessSettings, networkPolicySpecs, PodRole, RoleAccess } from "./parts/networkAccess";

export interface NetworkIsolationArgs {
    namespace: pulumi.Input<string>;
    roles: Record<PodRole, RoleAccess>;
    codeServerPorts: number[];
    access: NetworkAccessSettings;
}

/**
 * The stack's NetworkPolicies (networkAccess.ts): nothing outside the namespace reaches a pod of
 * the stack, and inside it each pod reaches only the servers its role uses. They take effect only
 * where the cluster's network plugin enforces NetworkPolicy (README, "Network isolation").
 */
export class NetworkIsolation extends pulumi.ComponentResource {
    public readonly policyNames: string[];

    constructor(name: string, args: NetworkIsolationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("imqcam-dagster:index:NetworkIsolation", name, {}, opts);
        const specs = networkPolicySpecs(args.roles, args.codeServerPorts, args.access);
        for (const { name: policy, spec } of specs) {
            new k8s.networking.v1.NetworkPolicy(`${name}-${policy}`, {
                metadata: { name: policy, namespace: args.namespace, labels: { "app.kubernetes.io/part-of": "imqcam-dagster" } },
                spec,
            }, { parent: this });
        }
        this.policyNames = specs.map((s) => s.name);
        this.registerOutputs({ policyNames: this.policyNames });
    }
}
