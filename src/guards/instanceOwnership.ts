// Two stacks of the same name (on two Pulumi backends, or a state re-created by `pulumi stack
// init`) pass src/guards/clusterOwnership.ts's check by name, and the second would write its own generated
// passwords over the credentials Secrets that the kept database and broker were created with.
// So the program also marks what it creates with the id of its stack instance, kept in the
// stack's state (src/components/stackInstance.ts), and refuses objects another instance made.
import * as pulumi from "@pulumi/pulumi";
import { INSTANCE_ANNOTATION, NamedObjects, ObservedObject, OWNER_ANNOTATION } from "./clusterOwnership";
import { configSet, Problem, problemList } from "../problem";

/** The stack output that shows a state's instance id. */
export const INSTANCE_OUTPUT = "stackInstance";

/**
 * The problems that must stop `pulumi up` before it writes the marked objects: any of them that
 * exists and was not made by `instance`. An object with neither mark that is not a Secret is left
 * to src/guards/clusterOwnership.ts (refused there, or adopted by the takeover); an unmarked credentials
 * Secret holds a password nothing says this stack made.
 */
export function objectsOfAnotherInstance(expected: NamedObjects, observed: ObservedObject[], owner: string,
    instance: string): Problem[] {
    const elsewhere = "deploy with the state that made it (below), or this stack into another namespace";
    return observed.flatMap((o): Problem[] => {
        const madeBy = o.annotations[INSTANCE_ANNOTATION];
        const stack = o.annotations[OWNER_ANNOTATION];
        if (madeBy === instance || (madeBy === undefined && stack === undefined && o.kind !== "Secret")) return [];
        const key = `${o.kind} ${o.name}`;
        if (madeBy !== undefined) {
            return [{ key, fix: configSet("namespace"), problem: (stack === owner
                ? `was made by another instance of stack ${owner} (${madeBy}, a stack of this name with other state), not by this one (${instance})`
                : `was made by stack ${stack ?? "(unnamed)"} (instance ${madeBy}), not by ${owner} (${instance})`) + `; ${elsewhere}` }];
        }
        if (stack !== undefined && stack !== owner) {
            return [{ key, problem: `exists and belongs to stack ${stack}, not ${owner}; deploy this stack into another namespace`,
                fix: configSet("namespace") }];
        }
        // No instance mark: made before the program marked instances (or its Secrets), by this
        // state or another; only the operator can tell.
        const where = o.kind === "Namespace" || o.kind === "PersistentVolume" ? "" : `-n ${expected.namespace} `;
        const mark = `kubectl ${where}annotate ${o.kind.toLowerCase()}/${o.name} ${OWNER_ANNOTATION}=${owner} ${INSTANCE_ANNOTATION}=${instance}`;
        return [{ key,
            problem: (stack === owner
                ? `is marked as stack ${owner}'s but not with an instance, so nothing says this stack instance made it`
                : "exists, and nothing says this stack made the password it holds") +
                `; only if this stack's own state made it, before the program marked it, mark it so (the fix); otherwise ${elsewhere}`,
            fix: mark }];
    });
}

export class StackInstanceError extends pulumi.RunError {
    constructor(readonly problems: Problem[]) {
        const text = "the cluster holds objects another instance of this stack made, or that nothing says it made; " +
            "nothing in the cluster was changed (this stack's passwords written over them would lock Dagster out " +
            "of the kept database and broker).\n" +
            problemList(problems) +
            `\nThe state that made an object is the one where \`pulumi stack output ${INSTANCE_OUTPUT}\` prints its ` +
            "instance: run `pulumi up` there (pulumi login <its backend>), or move that state here (there: " +
            "pulumi stack export --show-secrets --file <file>; here: pulumi stack import --file <file>).";
        super(text);
        // Pulumi prefixes the message of an error that breaks a resource's inputs, once for each
        // resource it reaches; this one is complete as written.
        Object.defineProperty(this, "message", { get: () => text, set: () => undefined });
        this.name = "StackInstanceError";
    }
}

/** Stops the deployment when a marked object exists that this stack instance did not make. */
export function refuseObjectsOfAnotherInstance(expected: NamedObjects, observed: ObservedObject[], owner: string,
    instance: string): void {
    const problems = objectsOfAnotherInstance(expected, observed, owner, instance);
    if (problems.length > 0) throw new StackInstanceError(problems);
}
