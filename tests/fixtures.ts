// Sample secrets, as a kde04 user sets them with `pulumi config set --secret`.
import { Override } from "../scripts/stackConfig";

/** The secrets every production stack sets (README, "Deploy to kde04"). */
export const KDE04_SECRETS: Record<string, Override> = {
    registryPassword: { value: "registry-password-7f3a", secret: true },
    envSecrets: {
        secret: true,
        value: {
            "girder-connection-info": { GIRDER_API_URL: "https://girder.example/api/v1", GIRDER_API_KEY: "girder-key-91c2" },
            "globus-compute-creds": { GLOBUS_COMPUTE_CLIENT_ID: "globus-id-5d7e", GLOBUS_COMPUTE_CLIENT_SECRET: "globus-secret-0b4f" },
        },
    },
};

