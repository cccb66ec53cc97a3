import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { INSTANCE_ANNOTATION, NamedObjects, ObservedObject, OWNER_ANNOTATION } from "../guards/clusterOwnership";
import { refuseObjectsOfAnotherInstance } from "../guards/instanceOwnership";

export interface StackInstanceArgs {
    /** The objects the program creates by fixed name, and the stack's `<project>/<stack>`. */
    expected: NamedObjects;
    owner: string;
    /** Those of them the cluster holds (src/guards/clusterOwnership.ts `observe`); none when it was not read. */
    observed: ObservedObject[];
}

/**
 * This stack instance's id, kept in its state, and the annotations that mark what it creates
 * with it (src/guards/instanceOwnership.ts). The id is protected, as the passwords are: it belongs to the
 * same state as they do and must outlive `pulumi destroy --exclude-protected` with them.
 */
export class StackInstance extends pulumi.ComponentResource {
    public readonly instanceId: pulumi.Output<string>;
    /**
     * The marks, known only once the cluster was found to hold no marked object of another
     * instance (else the deployment fails with StackInstanceError): what carries them, and what
     * depends on that, is written only then. While the id is still to be made (a new state, or
     * one from before the mark), `pulumi preview` cannot know it: the check runs in `pulumi up`.
     */
    public readonly annotations: Record<string, pulumi.Input<string>>;

    constructor(name: string, args: StackInstanceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("imqcam-dagster:index:StackInstance", name, {}, opts);
        const uuid = new random.RandomUuid(`${name}-id`, {}, { parent: this, protect: true });
        this.instanceId = uuid.result;
        const checked = uuid.result.apply((id) => {
            refuseObjectsOfAnotherInstance(args.expected, args.observed, args.owner, id);
            return id;
        });
        this.annotations = { [OWNER_ANNOTATION]: args.owner, [INSTANCE_ANNOTATION]: checked };
        this.registerOutputs({ instanceId: this.instanceId });
    }
}
