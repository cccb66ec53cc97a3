// `pulumi up` entry point: validate the stack's configuration, then deploy.
import { loadSettings } from "./config";
import { deployDagster } from "./stack";

const deployment = deployDagster(loadSettings());

export const namespace = deployment.namespace;
export const releaseName = deployment.releaseName;
export const chartVersion = deployment.chartVersion;
export const webserverService = deployment.webserverService;
/** Then open http://localhost:9000 (over `ssh -L 9000:localhost:9000 <login host>` if remote). */
export const portForwardCommand = deployment.portForwardCommand;
export const codeLocationImages = deployment.codeLocationImages;
