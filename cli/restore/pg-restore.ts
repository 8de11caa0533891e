import { spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import type { S3Client } from "@aws-sdk/client-s3";
import type { DumpSetEntry } from "../../shared/catalog/entry";
import { ComponentMismatchError, streamComponent } from "../../shared/dumpset/component-stream";
import { InvalidInputError, RestorableError } from "../../shared/errors";
import { noProgress, type TransferProgress } from "../upload/progress";
import { assertRestorable, selectComponents } from "./restore-set";
import { entryStream } from "./unpack";

export class PgRestoreError extends RestorableError {}

export interface PgRestoreOptions {
  s3: S3Client;
  bucket: string;
  entry: DumpSetEntry;
  /** The dump: a pg-dump component (`main.dump`), or the dump inside a set that is one archive. */
  dump: string;
  /** libpq connection string or database name, given to `pg_restore --dbname`. */
  dbname: string;
  pgRestore?: string;
  progress?: TransferProgress;
  signal?: AbortSignal;
}

export interface PgRestoreResult {
  id: string;
  source: string;
  component: string;
  /** The file inside the archive, for a set that is one archive. */
  entry: string | null;
  bytes: number;
  sha256: string;
  seconds: number;
}

/**
 * Streams a set's dump straight into `pg_restore --dbname` (nothing written to disk), verifying its SHA-256 on
 * the way. pg_restore restores as it reads, so a mismatch found at the last byte comes after it has restored
 * what it read: this fails then (naming the component) and stops pg_restore, but the database must be treated
 * as damaged. Restore into a scratch database (the page's `codebolt_tmp`) and copy from there.
 */
export async function restoreIntoPostgres(options: PgRestoreOptions): Promise<PgRestoreResult> {
  const started = Date.now();
  assertRestorable(options.entry);
  const [selection] = selectComponents(options.entry, [options.dump]);
  if (!selection) throw new InvalidInputError("no-such-component", `${options.entry.id} has no ${options.dump}`);
  const { component, entries } = selection;
  const inner = entries?.[0] ?? null;
  if (!inner && component.kind !== "pg-dump") {
    throw new InvalidInputError(
      "not-a-dump",
      `${component.name} is a ${component.kind}, not a pg_dump archive: --pg-restore takes a set's dump (such as main.dump)`,
    );
  }
  const progress = options.progress ?? noProgress;
  progress.start(component.size);
  progress.component(component.name);
  try {
    const read = await streamComponent({
      s3: options.s3,
      bucket: options.bucket,
      component,
      onBytes: (count) => progress.advance(count),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    await runPgRestore(inner ? entryStream(read.stream, inner) : read.stream, options);
    const { sha256, size } = await read.verified;
    return {
      id: options.entry.id,
      source: options.entry.source,
      component: component.name,
      entry: inner,
      bytes: size,
      sha256,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    progress.stop();
  }
}

async function runPgRestore(dump: Readable, options: PgRestoreOptions): Promise<void> {
  const child = spawn(options.pgRestore ?? "pg_restore", [`--dbname=${options.dbname}`], {
    stdio: ["pipe", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf-8").on("data", (text: string) => {
    stderr = (stderr + text).slice(-4000);
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.on("error", (error) =>
      reject(
        new PgRestoreError(
          "pg-restore-not-runnable",
          `could not run pg_restore: ${error.message}; is PostgreSQL's client installed?`,
          {
            cause: error,
          },
        ),
      ),
    );
    child.on("close", (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new PgRestoreError(
            "pg-restore-failed",
            `pg_restore failed (${signal ?? `exit ${code}`}): ${stderr.trim() || "no message"}`,
          ),
        );
    });
  });
  exited.catch(() => {});
  // pg_restore may stop reading before the last byte (a failure, or a dump with trailing bytes): the dump is
  // still read to its end, so that it is verified whatever pg_restore did.
  child.stdin.on("error", () => {
    dump.unpipe(child.stdin);
    dump.resume();
  });
  dump.pipe(child.stdin);
  try {
    await finished(dump);
  } catch (error) {
    // Its input never ends: pg_restore is stopped before it can take a damaged dump for a whole one.
    child.kill("SIGTERM");
    await exited.catch(() => {});
    if (!(error instanceof ComponentMismatchError)) throw error;
    throw new ComponentMismatchError(
      error.component,
      `${error.message}. pg_restore had already restored what it read into ${options.dbname}: treat that database as ` +
        "damaged and drop it (restore into a scratch database, then copy from it)",
      { cause: error },
    );
  }
  await exited;
}
