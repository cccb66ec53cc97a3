import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";

export interface CodeLocationSettings {
    name: string;
    module: string;
    attribute: string;
    port: number;
    /** Image repository without tag or digest. */
    image: string;
    /** Built from this folder and pushed by the program, which pins the pushed digest. */
    build?: { context: string; dockerfile: string };
    /** Or an image someone else pushed (a CI pipeline): run as `image@pushedDigest`, never built. */
    pushedDigest?: string;
}

export interface RegistrySettings {
    server: string;
    username?: string;
    password?: pulumi.Output<string>;
    /** Whether the cluster needs credentials to pull the user-code images. */
    private: boolean;
}

/** Built for the cluster's nodes, whatever machine runs `pulumi up`. */
export const IMAGE_PLATFORM = "linux/amd64";

export interface UserCodeImageArgs {
    location: CodeLocationSettings;
    dagsterVersion: string;
    registry: RegistrySettings;
}

/**
 * One code location's image, exposed by digest. Built from its folder with the stack's Dagster
 * version and pushed: the tag names the Dagster version only, so it changes when nothing else
 * does; the digest is what pins the deployment, and with unchanged sources and settings the
 * provider sees no diff, so a no-op `pulumi up` neither builds nor pushes. Or, where Docker
 * cannot run (a login host, a pipeline that builds images itself), an image already pushed and
 * pinned by digest in the configuration: then nothing is built or pushed.
 */
export class UserCodeImage extends pulumi.ComponentResource {
    /** Repository without tag, e.g. docker.io/openmsi/testing_k8s_dagster. */
    public readonly repository: string;
    /** The pushed manifest digest, `sha256:...`. */
    public readonly digest: pulumi.Output<string>;
    /** `repository@sha256:...`: the exact image the cluster runs. */
    public readonly pinnedReference: pulumi.Output<string>;

    constructor(name: string, args: UserCodeImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("imqcam-dagster:index:UserCodeImage", name, {}, opts);
        const { location, registry } = args;

        if (location.build) {
            const image = new docker.Image(name, {
                imageName: `${location.image}:dagster-${args.dagsterVersion}`,
                build: {
                    // Relative paths: the same inputs on every machine.
                    context: location.build.context,
                    dockerfile: location.build.dockerfile,
                    platform: IMAGE_PLATFORM,
                    args: { DAGSTER_VERSION: args.dagsterVersion },
                },
                // A preview (in code review too) neither builds nor pushes; the digest shows as unknown.
                buildOnPreview: false,
                registry: registry.username && registry.password
                    ? { server: registry.server, username: registry.username, password: registry.password }
                    : undefined,
            }, { parent: this });
            this.digest = image.repoDigest.apply(digestOf);
        } else {
            this.digest = pulumi.output(location.pushedDigest!);
        }

        this.repository = location.image;
        this.pinnedReference = pulumi.interpolate`${location.image}@${this.digest}`;
        this.registerOutputs({ repository: this.repository, digest: this.digest, pinnedReference: this.pinnedReference });
    }
}

/** `repo@sha256:abc` -> `sha256:abc`; anything else means the push did not happen. */
export function digestOf(repoDigest: string): string {
    const digest = repoDigest.split("@")[1];
    if (!digest || !/^sha256:[0-9a-f]{64}$/.test(digest)) {
        throw new Error(`the image build returned "${repoDigest}", not a pushed repo@sha256 digest`);
    }
    return digest;
}
