import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { freePort } from "../../cli/local/moto";
import { postgresBinary, run } from "./tools";

export interface PostgresServer {
  port: number;
  /** A libpq connection string for `database`. */
  url(database: string): string;
  /** Runs SQL through psql against `database`. */
  sql(database: string, statements: string): Promise<string>;
  /** A new empty database with a unique name. */
  createDatabase(label: string): Promise<string>;
}

export interface ThrowawayPostgres extends PostgresServer {
  stop(): Promise<void>;
}

/** The server the global setup started (see global-setup.ts), reached by its port. */
export function postgresAt(port: number): PostgresServer {
  const url = (database: string) => `postgresql://postgres@127.0.0.1:${port}/${database}`;
  const sql = async (database: string, statements: string) => {
    const { stdout } = await run(binary("psql"), [
      "-X",
      "-q",
      "-A",
      "-t",
      "-v",
      "ON_ERROR_STOP=1",
      "-d",
      url(database),
      "-c",
      statements,
    ]);
    return stdout;
  };
  return {
    port,
    url,
    sql,
    async createDatabase(label) {
      const name = `${label}_${Math.random().toString(36).slice(2, 10)}`.toLowerCase().replace(/[^a-z0-9_]/g, "_");
      await sql("postgres", `CREATE DATABASE ${name}`);
      return name;
    },
  };
}

export function binary(name: Parameters<typeof postgresBinary>[0]): string {
  const found = postgresBinary(name);
  if (!found) throw new Error(`${name} not found: npm test installs PostgreSQL, or run apt-get install postgresql`);
  return found;
}

/**
 * A PostgreSQL cluster of its own in a temporary directory on a random loopback port, trusting local
 * connections, thrown away afterwards. initdb refuses to run as root, so as root the server runs
 * as the 'postgres' system user.
 */
export async function startPostgres(): Promise<ThrowawayPostgres> {
  const directory = await mkdtemp(path.join(tmpdir(), "restorable-pg-"));
  const data = path.join(directory, "data");
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const as = async (command: string, args: string[]) => {
    if (!asRoot) return run(command, args, { maxBuffer: 16 * 1024 * 1024 });
    return run("runuser", ["-u", "postgres", "--", command, ...args], { maxBuffer: 16 * 1024 * 1024 });
  };
  if (asRoot) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    await chown(directory, Number(stdout.trim()), Number(gid.trim()));
  }
  await as(binary("initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"]);
  await as(binary("pg_ctl"), [
    "-D",
    data,
    "-l",
    path.join(directory, "server.log"),
    "-o",
    `-p ${port} -k ${directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
    "-w",
    "start",
  ]);
  return {
    ...postgresAt(port),
    async stop() {
      await as(binary("pg_ctl"), ["-D", data, "-m", "immediate", "stop"]).catch(() => {});
      await rm(directory, { recursive: true, force: true });
    },
  };
}
