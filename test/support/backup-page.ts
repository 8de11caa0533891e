import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { REPOSITORY_ROOT } from "../../cli/local/paths";
import { binary, type PostgresServer } from "./postgres";
import { run } from "./tools";

/** The backup page's "complete backup script", copied verbatim from the page (see pageScript below). */
export const PAGE_SCRIPT = path.join(REPOSITORY_ROOT, "test", "fixtures", "backup-page-script.sh");
/** Where the seed pages live beside the repository, when they do. */
const SEEDS = path.join(REPOSITORY_ROOT, "..", "shared", "seeds");

/** The script as the backup page prints it, from `#!/bin/bash` to its last line; undefined when the page is absent. */
export function pageScript(): string | undefined {
  if (!existsSync(SEEDS)) return undefined;
  const page = readdirSync(SEEDS).find((name) => name.startsWith("000_"));
  if (!page) return undefined;
  const text = readFileSync(path.join(SEEDS, page), "utf-8");
  const start = text.indexOf("#!/bin/bash");
  const last = 'echo "Backup complete: $DEST"';
  const end = text.indexOf(last, start);
  return start < 0 || end < 0 ? undefined : `${text.slice(start, end + last.length)}\n`;
}

export interface ScriptRun {
  /** The backup directory the script wrote ($DEST). */
  directory: string;
  /** The temporary root standing in for /. */
  root: string;
  database: string;
  rows: number;
}

/**
 * Runs the page's backup script unchanged but for where it writes and reads: its absolute prefixes
 * (/backups/, /etc/codebolt, /var/lib/codebolt) are rewritten with sed, in a copy, to a temporary root, since a
 * test cannot write /etc or /var/lib. Everything else runs as written: real `pg_dump -Fc codebolt` (a database
 * literally named codebolt, reached through PGHOST/PGPORT/PGUSER), `rsync -a`, `du`, `hostname`, `sha256sum`,
 * and a stand-in `codebolt-server` on PATH that prints its version.
 */
export async function runPageScript(postgres: PostgresServer, rows = 500): Promise<ScriptRun> {
  const root = await mkdtemp(path.join(tmpdir(), "restorable-page-root-"));
  const database = "codebolt";
  await postgres.sql("postgres", `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await postgres.sql("postgres", `CREATE DATABASE ${database}`);
  await postgres.sql(
    database,
    `CREATE SCHEMA codebolt;
     CREATE TABLE codebolt.persistent_memory (id text PRIMARY KEY, workspace_id text NOT NULL, body text NOT NULL);
     INSERT INTO codebolt.persistent_memory
       SELECT 'm' || g, 'ws' || (g % 7), repeat(md5(g::text), 8) FROM generate_series(1, ${rows}) g;`,
  );
  await writeServerFiles(root);
  const bin = path.join(root, "stand-in-bin");
  await mkdir(bin);
  await writeFile(path.join(bin, "codebolt-server"), '#!/bin/sh\necho "codebolt-server 1.4.2"\n');
  await chmod(path.join(bin, "codebolt-server"), 0o755);

  const script = path.join(root, "backup.sh");
  const { stdout: rewritten } = await run("sed", [
    "-e",
    `s#/backups/#${root}/backups/#g`,
    "-e",
    `s#/etc/codebolt#${root}/etc/codebolt#g`,
    "-e",
    `s#/var/lib/codebolt#${root}/var/lib/codebolt#g`,
    PAGE_SCRIPT,
  ]);
  await writeFile(script, rewritten, { mode: 0o755 });
  const { stdout } = await run("bash", [script], {
    env: {
      ...process.env,
      PATH: [bin, path.dirname(binary("pg_dump")), process.env.PATH].join(path.delimiter),
      PGHOST: "127.0.0.1",
      PGPORT: String(postgres.port),
      PGUSER: "postgres",
    },
  });
  const directory = /^Backup complete: (.+)$/m.exec(stdout)?.[1];
  if (!directory) throw new Error(`the script did not say where it wrote the backup:\n${stdout}`);
  return { directory, root, database, rows };
}

/** What a Codebolt server keeps: its data directories (nested, empty, binary, a symlink, odd names) and config. */
async function writeServerFiles(root: string): Promise<void> {
  const lib = path.join(root, "var", "lib", "codebolt");
  const files: Record<string, string | Buffer> = {
    "shadow-git/ws1/HEAD": "ref: refs/heads/main\n",
    "shadow-git/ws1/objects/ab/cdef0123": Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31) % 256)),
    "shadow-git/ws1/refs/heads/main": "0123456789abcdef0123456789abcdef01234567\n",
    "shadow-git/ws 2/notes with spaces.txt": "a name with spaces\n",
    "vectordb/index.bin": Buffer.alloc(256 * 1024, 7),
    "vectordb/segments/0001.seg": "vectors".repeat(1000),
    "kg/graph.json": '{"nodes":[],"edges":[]}',
    "capabilities/bundle-a/manifest.json": '{"name":"a"}',
    "capabilities/bundle-a/bin/run.sh": "#!/bin/sh\necho run\n",
    "db/PG_VERSION": "15\n",
  };
  for (const [file, body] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(lib, file)), { recursive: true });
    await writeFile(path.join(lib, file), body);
  }
  await chmod(path.join(lib, "capabilities/bundle-a/bin/run.sh"), 0o755);
  await mkdir(path.join(lib, "shadow-git", "ws1", "refs", "tags"), { recursive: true });
  await symlink("refs/heads/main", path.join(lib, "shadow-git", "ws1", "CURRENT"));
  const etc = path.join(root, "etc", "codebolt");
  await mkdir(etc, { recursive: true });
  await writeFile(path.join(etc, "master-key-id"), "mk-2026-12\n");
  await writeFile(path.join(etc, "codebolt-server.yaml"), "port: 8080\ndata: /var/lib/codebolt\n");
}
