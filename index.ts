// `pulumi up` entry point: validate the stack's configuration, make sure the cluster holds
// nothing this stack did not create and can hold the stack, then deploy.
import * as pulumi from "@pulumi/pulumi";
import { refuseObjectsNotCreatedHere } from "./src/guards/clusterOwnership";
import { refuseClusterThatCannotHold } from "./src/guards/clusterPreflight";
import { kubectl, readCluster } from "./src/guards/clusterReads";
import { loadSettings } from "./src/settings/load";
import { clusterNeeds, deployDagster, namedObjects, stackOwner } from "./src/stack";

const settings = loadSettings();
const cluster = readCluster(settings.namespace, kubectl(new pulumi.Config("kubernetes").get("context")));
const observed = refuseObjectsNotCreatedHere(namedObjects(settings), cluster, stackOwner());
refuseClusterThatCannotHold(clusterNeeds(settings), cluster);
const deployment = deployDagster(settings, observed.objects);

export const namespace = deployment.namespace;
export const releaseName = deployment.releaseName;
export const chartVersion = deployment.chartVersion;
export const webserverService = deployment.webserverService;
/** Then open http://localhost:9000 (over `ssh -L 9000:localhost:9000 <login host>` if remote). */
export const portForwardCommand = deployment.portForwardCommand;
export const codeLocationImages = deployment.codeLocationImages;
/** The id the objects this stack made are marked with (src/guards/instanceOwnership.ts). */
export const stackInstance = deployment.stackInstance;
