// How every Dagster process reaches the run history: one PostgreSQL role, database and driver
// for the chart's pods and the program's own migration Job. Pure: no resources.
import * as yaml from "js-yaml";

/** Role and database of the program's PostgreSQL; the restored history is owned by them. */
export const POSTGRESQL_USER = "dagster";
export const POSTGRESQL_DATABASE = "dagster";
export const POSTGRESQL_PORT = 5432;
/**
 * The SQLAlchemy driver every pod's storage uses. Without it, SQLAlchemy 2.1 reads a bare
 * postgresql:// as psycopg 3, which dagster-postgres does not install, and no run can start.
 */
export const POSTGRESQL_SCHEME = "postgresql+psycopg2";
/** Where Dagster's pods read the password (the chart's name, from the credentials Secret). */
export const PASSWORD_ENV = "DAGSTER_PG_PASSWORD";

/** The `postgres_db` block, as the chart's `dagsterYaml.postgresql.config` renders it. */
export function postgresDb(host: string): Record<string, unknown> {
    return {
        username: POSTGRESQL_USER,
        password: { env: PASSWORD_ENV },
        hostname: host,
        db_name: POSTGRESQL_DATABASE,
        port: POSTGRESQL_PORT,
        params: {},
        scheme: POSTGRESQL_SCHEME,
    };
}

/**
 * A dagster.yaml holding only the three storages, shaped as the chart's instance ConfigMap
 * renders them: enough for `dagster instance migrate`, which touches nothing else.
 */
export function storageInstanceYaml(host: string): string {
    const config = { postgres_db: postgresDb(host) };
    return yaml.dump({
        run_storage: { module: "dagster_postgres.run_storage", class: "PostgresRunStorage", config },
        event_log_storage: { module: "dagster_postgres.event_log", class: "PostgresEventLogStorage", config },
        schedule_storage: { module: "dagster_postgres.schedule_storage", class: "PostgresScheduleStorage", config },
        telemetry: { enabled: false },
    }, { noRefs: true, lineWidth: -1 });
}
