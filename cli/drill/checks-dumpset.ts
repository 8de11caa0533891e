import { createHash } from "node:crypto";
import { createWriteStream, type Dirent } from "node:fs";
import { mkdir, open, readdir } from "node:fs/promises";
import { cpus } from "node:os";
import * as path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream } from "node:stream/web";
import { x as extractTar, t as listTar } from "tar";
import type { DumpSetDrill } from "../../shared/drills/agent-config";
import type { SqlAssertion } from "../../shared/drills/plan";
import type { TableCount } from "../../shared/drills/record";
import { fullObjectChecksum, sameChecksum } from "../../shared/dumpset/s3-checksum";
import { describeError, RestorableError } from "../../shared/errors";
import {
  abortReason,
  type CheckContext,
  lastLines,
  postgresEnv,
  postgresTool,
  runTool,
  startThrowawayPostgres,
  type ThrowawayCluster,
} from "./postgres";

/** A component could not be read at all (an expired URL, the network): the drill could not run, nothing more. */
export class ComponentUnreadableError extends RestorableError {}

type DrillComponent = DumpSetDrill["components"][number];

/** The database a drill restores into, in its throwaway cluster. */
const DATABASE = "drill";
/** Where the components are written (and directory archives unpacked), under the work directory. */
export const COMPONENTS_DIRECTORY = "components";

interface Restored {
  cluster: ThrowawayCluster;
  database: string;
}

/**
 * The checks of a dump set, in order: integrity, archive-readable, restore, baseline, one per SQL assertion,
 * smoke. A check whose failure leaves nothing for the next ones to look at (wrong bytes, an unreadable
 * archive, a restore that failed) ends the drill there. The baseline goes into `context.results`.
 */
export async function runDumpSetChecks(drill: DumpSetDrill, context: CheckContext): Promise<void> {
  const directory = path.join(context.workDir, COMPONENTS_DIRECTORY);
  await mkdir(directory, { recursive: true });
  // The cluster starts while the components download: its start counts in no phase, the restore's least of all.
  const mayHoldDatabase = drill.components.some(
    (c) => c.kind === "pg-dump" || c.kind === "archive" || c.name === "main.dump",
  );
  const cluster = mayHoldDatabase ? startInBackground(context) : undefined;
  try {
    if (!(await context.timed("download", () => checkIntegrity(drill.components, directory, context)))) return;
    const dump = await context.timed("verify", () => checkArchivesReadable(drill.components, directory, context));
    if (dump === false) return;
    const restored = await context.timed("restore", () => restoreDatabase(dump, cluster, context));
    if (restored === false) return;
    await context.timed("checks", async () => {
      if (restored) context.results.baseline = await measureBaseline(restored, context);
      for (const assertion of drill.sql) await checkSqlAssertion(assertion, restored, context);
      if (drill.smoke) await checkSmoke(drill, directory, restored, context);
    });
  } finally {
    await cluster?.stop();
  }
}

interface PendingCluster {
  /** The started cluster; rejects as its start failed. */
  started: Promise<ThrowawayCluster>;
  stop(): Promise<void>;
}

function startInBackground(context: CheckContext): PendingCluster {
  const started = startThrowawayPostgres(context.workDir, context.signal);
  // Its failure is the restore's to report, when there is a restore.
  started.catch(() => {});
  return {
    started,
    async stop() {
      const cluster = await started.catch(() => undefined);
      await cluster?.stop();
    },
  };
}

// 1. integrity

/** Downloads every component into `directory`, verifying its size and SHA-256 while it streams. */
async function checkIntegrity(components: DrillComponent[], directory: string, context: CheckContext) {
  const problems: string[] = [];
  let bytes = 0;
  for (const component of components) {
    context.log(`integrity: downloading ${component.name} (${component.size} bytes)`);
    const problem = await download(component, path.join(directory, component.name), context);
    if (problem) problems.push(problem);
    else bytes += component.size;
  }
  const passed = problems.length === 0;
  context.record({
    name: "integrity",
    passed,
    detail: passed
      ? `${components.length} component(s), ${bytes} bytes: size and SHA-256 as the manifest records`
      : problems.join("; "),
  });
  return passed;
}

/** Streams one component to `file`; the problem with its bytes, or undefined when they are the committed ones. */
async function download(component: DrillComponent, file: string, context: CheckContext): Promise<string | undefined> {
  const response = await fetch(component.url, { signal: context.signal }).catch((error: unknown) => {
    if (context.signal.aborted) throw abortReason(context.signal);
    throw new ComponentUnreadableError(
      "component-unreadable",
      `could not read ${component.name}: ${describeError(error)}`,
    );
  });
  if (response.status === 404) {
    await response.body?.cancel();
    return `${component.name}: its pinned version is not in the bucket (HTTP 404)`;
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new ComponentUnreadableError(
      "component-unreadable",
      `could not read ${component.name}: HTTP ${response.status}`,
    );
  }
  const length = response.headers.get("content-length");
  if (length !== null && Number(length) !== component.size) {
    await response.body.cancel();
    return `${component.name}: the bucket holds ${length} bytes, the manifest records ${component.size}`;
  }
  const reported = response.headers.get("x-amz-checksum-sha256") ?? undefined;
  if (component.checksum && reported && !sameChecksum(component.checksum, reported)) {
    await response.body.cancel();
    return `${component.name}: S3 checksums it as ${reported}, the manifest records ${component.checksum.value}`;
  }
  const hash = createHash("sha256");
  let size = 0;
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      context.bytes.downloaded += chunk.length;
      callback(null, chunk);
    },
  });
  const body = Readable.fromWeb(response.body as ReadableStream<Uint8Array>);
  await pipeline(body, hashing, createWriteStream(file, { highWaterMark: 1024 * 1024 }), { signal: context.signal });
  const sha256 = hash.digest("hex");
  if (size !== component.size) return `${component.name}: ${size} bytes read, the manifest records ${component.size}`;
  if (sha256 !== component.sha256) {
    return `${component.name}: SHA-256 ${sha256} does not match the manifest's ${component.sha256}`;
  }
  // A single PUT's S3 checksum is the object's SHA-256 itself: the manifest's two records must agree.
  if (component.checksum?.parts === 0 && component.checksum.value !== fullObjectChecksum(sha256).value) {
    return `${component.name}: its bytes do not match the S3 checksum the manifest records`;
  }
  return undefined;
}

// 2. archive-readable

/**
 * pg_restore reads every dump to its end (catching a truncated archive that `pg_restore --list` passes) and
 * every tar archive is listed to its end; a helper's whole-backup archive is unpacked, as a restore would.
 * Returns the dump to restore (null when the set holds none), or false when something is not readable.
 */
async function checkArchivesReadable(components: DrillComponent[], directory: string, context: CheckContext) {
  const problems: string[] = [];
  const read: string[] = [];
  const dumps: { name: string; file: string }[] = [];
  for (const component of components) {
    const file = path.join(directory, component.name);
    const tarKind = component.kind === "directory-archive" || component.kind === "archive";
    if (tarKind) {
      const problem = await readTar(component, file, directory);
      if (problem) problems.push(problem);
      else read.push(component.name);
      if (!problem && component.kind === "archive") dumps.push(...(await dumpsInside(component, directory)));
    } else if (component.kind === "pg-dump" || component.name === "main.dump") {
      dumps.push({ name: component.name, file });
    }
  }
  for (const dump of dumps) {
    context.log(`archive-readable: pg_restore reads ${dump.name}`);
    const result = await runTool(postgresTool("pg_restore"), ["-f", "/dev/null", dump.file], {
      signal: context.signal,
    });
    if (result.code === 0) read.push(dump.name);
    else
      problems.push(`${dump.name}: pg_restore cannot read it: ${lastLines(result.output, 3) || `exit ${result.code}`}`);
  }
  const passed = problems.length === 0;
  context.record({
    name: "archive-readable",
    passed,
    detail: passed
      ? read.length
        ? `read to the end: ${read.join(", ")}`
        : "no archives in this set"
      : problems.join("; "),
  });
  if (!passed) return false;
  const main = dumps.find((dump) => path.basename(dump.file) === "main.dump") ?? dumps[0];
  return main ?? null;
}

/** Lists a directory archive to its end, or unpacks a helper's archive into a directory named after it. */
async function readTar(component: DrillComponent, file: string, directory: string): Promise<string | undefined> {
  try {
    if (component.kind === "archive") {
      const into = path.join(directory, archiveDirectory(component.name));
      await mkdir(into, { recursive: true });
      await extractTar({ file, cwd: into, strict: true, maxDecompressionRatio: Number.POSITIVE_INFINITY });
    } else {
      await listTar({ file, strict: true, maxDecompressionRatio: Number.POSITIVE_INFINITY });
    }
    return undefined;
  } catch (error) {
    return `${component.name}: tar cannot read it to its end: ${describeError(error)}`;
  }
}

function archiveDirectory(name: string): string {
  return name.replace(/\.(tar\.gz|tgz|tar)$/, "") || `${name}.d`;
}

/** The pg_dump archives a helper's archive holds: any `main.dump` at its top or one directory down. */
async function dumpsInside(component: DrillComponent, directory: string) {
  const root = path.join(directory, archiveDirectory(component.name));
  const found: { name: string; file: string }[] = [];
  const visit = async (at: string, depth: number) => {
    const entries: Dirent[] = await readdir(at, { withFileTypes: true });
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(at, entry.name);
      if (entry.isFile() && entry.name === "main.dump")
        found.push({ name: `${component.name}:${path.relative(root, full)}`, file: full });
      else if (entry.isDirectory() && depth < 1) await visit(full, depth + 1);
    }
  };
  await visit(root, 0);
  return found;
}

// 3. restore

/** Restores the dump into a fresh database of the throwaway cluster; null when the set has no database. */
async function restoreDatabase(
  dump: { name: string; file: string } | null,
  pending: PendingCluster | undefined,
  context: CheckContext,
): Promise<Restored | null | false> {
  if (!dump || !pending) {
    context.record({ name: "restore", passed: true, detail: "no database in this set" });
    return null;
  }
  const cluster = await pending.started;
  const created = await psql(cluster, "postgres", `CREATE DATABASE ${DATABASE}`, context);
  if (created.code !== 0)
    throw new RestorableError("createdb-failed", `CREATE DATABASE failed: ${lastLines(created.output, 3)}`);
  // Parallel jobs need pg_dump's custom format (PGDMP); a tar-format dump restores with one.
  const jobs = (await isCustomFormat(dump.file)) ? Math.max(1, cpus().length) : 1;
  context.log(`restore: pg_restore -j ${jobs} ${dump.name}`);
  const args = [
    "-j",
    String(jobs),
    "--exit-on-error",
    "--no-owner",
    "--no-privileges",
    "-d",
    cluster.conninfo(DATABASE),
  ];
  const started = Date.now();
  const result = await runTool(postgresTool("pg_restore"), [...args, dump.file], {
    env: postgresEnv(),
    signal: context.signal,
  });
  if (result.code !== 0) {
    const why = lastLines(result.output, 5) || `exit ${result.code}`;
    context.record({ name: "restore", passed: false, detail: `pg_restore failed on ${dump.name}: ${why}` });
    return false;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(2);
  const size = await psql(cluster, DATABASE, "SELECT pg_database_size(current_database())", context);
  context.bytes.restored += Number(size.output.trim()) || 0;
  context.record({
    name: "restore",
    passed: true,
    detail: `${dump.name} restored with pg_restore -j ${jobs} in ${seconds}s`,
  });
  return { cluster, database: DATABASE };
}

async function isCustomFormat(file: string): Promise<boolean> {
  const handle = await open(file, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(5), 0, 5, 0);
    return bytesRead === 5 && buffer.toString("latin1") === "PGDMP";
  } finally {
    await handle.close();
  }
}

function psql(cluster: ThrowawayCluster, database: string, sql: string, context: CheckContext) {
  const args = ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", cluster.conninfo(database), "-c", sql];
  return runTool(postgresTool("psql"), args, { env: postgresEnv(), signal: context.signal });
}

// 4. baseline

/** Every user table with its exact row count, as one JSON document (a table per `count(*)`). */
const BASELINE_SQL = `
SELECT coalesce(json_agg(json_build_object('table', name, 'rows', rows) ORDER BY name), '[]')
FROM (
  SELECT format('%s.%s', quote_ident(n.nspname), quote_ident(c.relname)) AS name,
         (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text::bigint AS rows
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
    AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
) tables`;

/** Measured here, judged by the cloud against the last passing drill: the check passes unless it cannot measure. */
async function measureBaseline(restored: Restored, context: CheckContext): Promise<TableCount[] | null> {
  const result = await psql(restored.cluster, restored.database, BASELINE_SQL, context);
  if (result.code !== 0) {
    context.record({ name: "baseline", passed: false, detail: `could not count rows: ${lastLines(result.output, 3)}` });
    return null;
  }
  const tables = (JSON.parse(result.output.trim()) as TableCount[]).map(({ table, rows }) => ({
    table,
    rows: Number(rows),
  }));
  const rows = tables.reduce((sum, table) => sum + table.rows, 0);
  context.record({ name: "baseline", passed: true, detail: `${tables.length} tables, ${rows} rows` });
  return tables;
}

// 5. SQL assertions

async function checkSqlAssertion(assertion: SqlAssertion, restored: Restored | null, context: CheckContext) {
  const name = `sql:${assertion.name}`;
  if (!restored) return context.record({ name, passed: false, detail: "no database in this set to query" });
  context.log(`${name}: running`);
  const records = new CsvRecords();
  const args = ["-X", "-q", "--csv", "-t", "-v", "ON_ERROR_STOP=1", "-d", restored.cluster.conninfo(restored.database)];
  const result = await runTool(postgresTool("psql"), [...args, "-c", assertion.query], {
    env: postgresEnv(),
    signal: context.signal,
    onStdout: (text) => records.push(text),
  });
  records.end();
  if (result.code !== 0)
    return context.record({ name, passed: false, detail: lastLines(result.output, 3) || `psql exit ${result.code}` });
  const problems: string[] = [];
  if (assertion.minRows !== undefined && records.rows < assertion.minRows) {
    problems.push(`${records.rows} row(s), at least ${assertion.minRows} expected`);
  }
  if (assertion.equals !== undefined && records.first !== assertion.equals) {
    problems.push(
      records.rows === 0
        ? `no rows, '${assertion.equals}' expected`
        : `got '${records.first}', '${assertion.equals}' expected`,
    );
  }
  const detail = problems.length
    ? problems.join("; ")
    : `${records.rows} row(s)${records.rows ? `, first value '${records.first}'` : ""}`;
  context.record({ name, passed: problems.length === 0, detail });
}

/**
 * Counts the records of psql's CSV output as it streams (a value may hold newlines, quoted) and keeps the first
 * field of the first record: bounded memory whatever the query returns.
 */
export class CsvRecords {
  rows = 0;
  first = "";
  private field = 0;
  private quoted = false;
  private quoteSeen = false;
  private started = false;

  push(text: string): void {
    for (const character of text) this.take(character);
  }

  end(): void {
    if (this.started) this.endRecord();
  }

  private take(character: string): void {
    if (this.quoteSeen) {
      this.quoteSeen = false;
      if (character === '"') {
        this.add('"');
        return;
      }
      this.quoted = false;
    }
    if (this.quoted) {
      if (character === '"') this.quoteSeen = true;
      else this.add(character);
      return;
    }
    this.started = true;
    if (character === '"') this.quoted = true;
    else if (character === ",") this.field++;
    else if (character === "\n") this.endRecord();
    else if (character !== "\r") this.add(character);
  }

  private add(character: string): void {
    if (this.rows === 0 && this.field === 0 && this.first.length < 1000) this.first += character;
  }

  private endRecord(): void {
    this.rows++;
    this.field = 0;
    this.started = false;
  }
}

// 7. smoke (6, master key, is decided by the cloud)

async function checkSmoke(drill: DumpSetDrill, directory: string, restored: Restored | null, context: CheckContext) {
  const smoke = drill.smoke;
  if (!smoke) return;
  for (const component of drill.components.filter((c) => c.kind === "directory-archive")) {
    await extractTar({
      file: path.join(directory, component.name),
      cwd: directory,
      strict: true,
      maxDecompressionRatio: Number.POSITIVE_INFINITY,
      onReadEntry: (entry) => {
        if (entry.type === "File") context.bytes.restored += entry.size ?? 0;
      },
    });
  }
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(RESTORABLE_|RESTIC_|PG)/.test(name)),
  );
  env.RESTORABLE_RESTORE_DIR = directory;
  if (restored) Object.assign(env, { PGHOST: restored.cluster.host, PGPORT: String(restored.cluster.port) });
  if (restored) Object.assign(env, { PGDATABASE: restored.database, PGUSER: restored.cluster.user });
  if (drill.masterKey !== null) env.RESTORABLE_MASTER_KEY = drill.masterKey;
  context.log(`smoke: running the smoke command (timeout ${smoke.timeoutSeconds}s)`);
  const started = Date.now();
  const result = await runTool("sh", ["-c", smoke.command], {
    cwd: directory,
    env,
    group: true,
    timeoutMs: smoke.timeoutSeconds * 1000,
    signal: context.signal,
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const output = lastLines(result.output, 10);
  const outcome = result.timedOut
    ? `did not finish within ${smoke.timeoutSeconds}s`
    : result.code === 0
      ? `exit 0 after ${seconds}s`
      : `exited ${result.signal ?? result.code} after ${seconds}s`;
  context.record({
    name: "smoke",
    passed: result.code === 0 && !result.timedOut,
    detail: output ? `${outcome}: ${output}` : outcome,
  });
}
