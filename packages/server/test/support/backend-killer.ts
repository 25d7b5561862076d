import pg from 'pg';

/** Terminates one application's Postgres backends, as a failover or an operator would. */
export interface BackendKiller {
  /** Ends every backend of the application in this database; returns how many were ended. */
  kill(): Promise<number>;
  /**
   * Kills once each time `progress()` reaches the next threshold (or `done()` turns true);
   * returns how many backends were ended in all.
   */
  killAt(thresholds: number[], progress: () => number, done: () => boolean): Promise<number>;
  close(): Promise<void>;
}

/**
 * Connects to the test database itself and kills only the backends that carry
 * `applicationName` there, so neither other databases nor the test's own pool are touched.
 */
export async function openBackendKiller(
  databaseUrl: string,
  applicationName: string,
): Promise<BackendKiller> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();

  const kill = async () => {
    const result = await client.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = $1
          AND pid <> pg_backend_pid()`,
      [applicationName],
    );

    return result.rowCount ?? 0;
  };

  return {
    kill,
    killAt: async (thresholds, progress, done) => {
      let killed = 0;

      for (const threshold of thresholds) {
        while (progress() < threshold && !done()) {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }

        killed += await kill();
      }

      return killed;
    },
    close: () => client.end(),
  };
}

/** The database URL with an application name, so its backends can be told apart. */
export function withApplicationName(url: string, applicationName: string): string {
  const named = new URL(url);
  named.searchParams.set('application_name', applicationName);

  return named.href;
}
