// The names the program gives the objects the Python tools meet (the takeover, `npm run status`),
// printed as JSON: `npm run --silent names > takeover/program_names.json` writes the file those
// tools read, and tests/names.test.ts fails when the file and the program differ.
import { TAKE_OVER_ENV } from "../src/guards/clusterOwnership";
import { MIGRATION_JOB_LABEL } from "../src/components/instanceMigration";
import { POSTGRESQL_CONTAINER } from "../src/components/postgresql";
import { IO_VOLUME_NAME, POSTGRESQL_CLAIM_NAME, POSTGRESQL_NAME, RABBITMQ_CLAIM_NAME, RELEASE_NAME } from "../src/stack";

export function programNames(): Record<string, string> {
    return {
        release: RELEASE_NAME,
        releaseSelector: `app.kubernetes.io/instance=${RELEASE_NAME}`,
        ioVolume: IO_VOLUME_NAME,
        postgresqlClaim: POSTGRESQL_CLAIM_NAME,
        postgresqlPod: `${POSTGRESQL_NAME}-0`,
        postgresqlContainer: POSTGRESQL_CONTAINER,
        rabbitmqClaim: RABBITMQ_CLAIM_NAME,
        takeOverEnv: TAKE_OVER_ENV,
        migrationJobLabel: MIGRATION_JOB_LABEL,
    };
}

if (require.main === module) process.stdout.write(`${JSON.stringify(programNames(), null, 2)}\n`);
