import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ShareWriter } from "./parts/podSecurity";

export interface NfsSource { kind: "nfs"; server: string; path: string }
export interface HostPathSource { kind: "hostPath"; path: string }

/** The shared folder behind Dagster's FilesystemIOManager. */
export interface IoVolumeSettings {
    source: NfsSource | HostPathSource;
    size: string;
    mountPath: string;
    /** Who writes on it (code servers, run and step pods, backups, log pruning); unset: the user-code image's user. */
    writer: ShareWriter;
}

export interface IoVolumeArgs {
    namespace: pulumi.Input<string>;
    /** Name of both the PersistentVolume and its claim. */
    name: string;
    volume: IoVolumeSettings;
    /** Marks both objects as this stack instance's (src/components/stackInstance.ts). */
    annotations: Record<string, pulumi.Input<string>>;
}

/**
 * The shared folder every code server, run and step pod mounts for Dagster's
 * FilesystemIOManager: a PersistentVolume on NFS (or a host folder) and a claim bound to it by
 * name. Both are protected and the volume is Retain, so neither `pulumi destroy` nor a change
 * that would replace them can drop the data (the engine refuses a protected replacement).
 */
export class IoVolume extends pulumi.ComponentResource {
    public readonly claimName: pulumi.Output<string>;
    public readonly volumeName: pulumi.Output<string>;

    constructor(name: string, args: IoVolumeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("imqcam-dagster:index:IoVolume", name, {}, opts);
        const { source, size } = args.volume;

        const volume = new k8s.core.v1.PersistentVolume(name, {
            metadata: { name: args.name, annotations: args.annotations },
            spec: {
                capacity: { storage: size },
                accessModes: ["ReadWriteMany"],
                persistentVolumeReclaimPolicy: "Retain",
                // Empty class on both sides: no default StorageClass can provision the claim instead.
                storageClassName: "",
                // Pre-bound, so no other claim in the cluster can take this volume.
                claimRef: { namespace: args.namespace, name: args.name },
                ...(source.kind === "nfs"
                    ? { nfs: { server: source.server, path: source.path } }
                    : { hostPath: { path: source.path, type: "DirectoryOrCreate" } }),
            },
        }, { parent: this, protect: true });

        const claim = new k8s.core.v1.PersistentVolumeClaim(name, {
            metadata: { name: args.name, namespace: args.namespace, annotations: args.annotations },
            spec: {
                accessModes: ["ReadWriteMany"],
                storageClassName: "",
                volumeName: volume.metadata.name,
                resources: { requests: { storage: size } },
            },
        }, { parent: this, protect: true });

        this.volumeName = volume.metadata.name;
        this.claimName = claim.metadata.name;
        this.registerOutputs({ volumeName: this.volumeName, claimName: this.claimName });
    }
}
