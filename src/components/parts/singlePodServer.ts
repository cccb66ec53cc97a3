import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { podPlacement } from "./placement";
import { hardenedPod, READ_ONLY_ROOT } from "./podSecurity";

export interface SinglePodServerArgs {
    namespace: pulumi.Input<string>;
    /** Name of the StatefulSet and of the Service clients connect to. */
    name: string;
    /** `app.kubernetes.io/name`: what the server is (postgresql, rabbitmq). */
    app: string;
    port: { name: string; port: number };
    /** The server's container; its data volume is called `data`. */
    container: k8s.types.input.core.v1.Container;
    /** The protected claim that holds the server's data, mounted as `data`. */
    claimName: pulumi.Input<string>;
    /** More volumes for the container's mounts, such as a configuration file. */
    volumes?: k8s.types.input.core.v1.Volume[];
    /** On the pod template: a change rolls the pod (a configuration file's hash). */
    podAnnotations?: Record<string, string>;
    nodeHostnames: readonly string[];
    terminationGracePeriodSeconds?: number;
    /** The image's own non-root user, which the pod runs as and which owns the data volume. */
    user: number;
    /**
     * Folders the server writes outside its data (sockets, lock and temporary files): each an
     * empty folder of the pod's own, so the rest of the root file system can be read-only.
     */
    scratch: Record<string, string>;
}

/**
 * One stateful server pod with its data on a claim the program owns, behind a headless Service:
 * the shape the database and the broker share. One replica, so the stable pod name is also the
 * server's identity over its data directory.
 */
export function singlePodServer(name: string, args: SinglePodServerArgs, parent: pulumi.Resource) {
    const labels = { "app.kubernetes.io/name": args.app, "app.kubernetes.io/instance": args.name };
    const metadata = { name: args.name, namespace: args.namespace, labels };

    // Headless: the one pod's address, published only once it is ready.
    const service = new k8s.core.v1.Service(name, {
        metadata,
        spec: { clusterIP: "None", selector: labels, ports: [{ ...args.port, targetPort: args.port.name }] },
    }, { parent });

    const statefulSet = new k8s.apps.v1.StatefulSet(name, {
        metadata,
        spec: {
            serviceName: service.metadata.name,
            replicas: 1,
            selector: { matchLabels: labels },
            template: {
                metadata: { labels, annotations: args.podAnnotations },
                spec: {
                    ...podPlacement(args.nodeHostnames),
                    ...hardenedPod(args.user),
                    terminationGracePeriodSeconds: args.terminationGracePeriodSeconds,
                    containers: [{ ...args.container, securityContext: READ_ONLY_ROOT,
                        ports: [{ name: args.port.name, containerPort: args.port.port }],
                        volumeMounts: [...(args.container.volumeMounts as k8s.types.input.core.v1.VolumeMount[] ?? []),
                            ...Object.entries(args.scratch).map(([volume, mountPath]) => ({ name: volume, mountPath }))] }],
                    volumes: [
                        { name: "data", persistentVolumeClaim: { claimName: args.claimName } },
                        ...(args.volumes ?? []),
                        ...Object.keys(args.scratch).map((volume) => ({ name: volume, emptyDir: {} })),
                    ],
                },
            },
        },
    }, { parent });
    return { service, statefulSet };
}
