import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { binary, type PostgresServer } from "./postgres";
import { run } from "./tools";

export interface SeedBackup {
  directory: string;
  database: string;
}

/**
 * Writes a backup directory exactly as the seed's "complete backup script" does: a real
 * `pg_dump -Fc` as main.dump, master-key-id.txt, the four data directories, the server config,
 * manifest.txt, and SHA256SUMS from `sha256sum "$DEST/main.dump"` (absolute path and all).
 */
export async function writeSeedBackup(
  postgres: PostgresServer,
  /** body: the SQL expression of each row's text (of generate_series' g), for a dump of a chosen size. */
  options: { rows?: number; stamp?: string; body?: string } = {},
): Promise<SeedBackup> {
  const database = await postgres.createDatabase("codebolt");
  const rows = options.rows ?? 1000;
  await postgres.sql(
    database,
    `CREATE SCHEMA codebolt;
     CREATE TABLE codebolt.persistent_memory (id text PRIMARY KEY, workspace_id text NOT NULL, body text NOT NULL);
     INSERT INTO codebolt.persistent_memory
       SELECT 'm' || g, 'ws' || (g % 7), ${options.body ?? "repeat(md5(g::text), 8)"} FROM generate_series(1, ${rows}) g;`,
  );
  const parent = await mkdtemp(path.join(tmpdir(), "restorable-seed-"));
  const directory = path.join(parent, options.stamp ?? "20250101_020000");
  await mkdir(directory);
  await run(binary("pg_dump"), ["-Fc", "-f", path.join(directory, "main.dump"), "-d", postgres.url(database)]);
  await writeFile(path.join(directory, "master-key-id.txt"), "mk-2025-01\n");
  for (const [dir, files] of Object.entries({
    "shadow-git/ws1": { HEAD: "ref: refs/heads/main\n", "objects/ab/cdef": "blob" },
    vectordb: { "index.bin": "vectors".repeat(100) },
    kg: { "graph.json": '{"nodes":[]}' },
    capabilities: { "bundle-a/manifest.json": '{"name":"a"}' },
  })) {
    for (const [file, body] of Object.entries(files)) {
      const target = path.join(directory, dir, file);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, body);
    }
  }
  await writeFile(path.join(directory, "codebolt-server.yaml"), "port: 8080\n");
  await writeFile(
    path.join(directory, "manifest.txt"),
    [
      "timestamp: 2025-01-01T02:00:00Z",
      "hostname: db-primary",
      "server_version: codebolt-server 1.4.2",
      "db_size: -",
      "shadow_git_size: 1.0M\t/var/lib/codebolt/shadow-git",
      "",
    ].join("\n"),
  );
  const { stdout } = await run("sha256sum", [path.join(directory, "main.dump")]);
  await writeFile(path.join(directory, "SHA256SUMS"), stdout);
  return { directory, database };
}
