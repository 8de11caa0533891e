import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { S3Client } from "@aws-sdk/client-s3";
import { componentKey, makeSetId, SourceNameSchema } from "../../shared/contracts/layout";
import { RestorableError } from "../../shared/errors";
import { parseWith } from "../../shared/validation";
import { commitPushedSet, type PushResult } from "./dump-set";
import { uploadHashing } from "./hashing-upload";
import { noProgress, type TransferProgress } from "./progress";

export class PgDumpError extends RestorableError {}

export interface BackupPostgresOptions {
  s3: S3Client;
  bucket: string;
  source: string;
  /** A libpq connection string or database name, passed to `pg_dump --dbname`. */
  dbname: string;
  tags?: string[];
  masterKeyId?: string;
  serverVersion?: string;
  pgDump?: string;
  progress?: TransferProgress;
  now?: () => Date;
}

/**
 * Streams `pg_dump -Fc` straight into S3 (no temporary file) as a one-component set. If pg_dump
 * fails, even after its last byte, the upload is aborted and no manifest is written.
 */
export async function backupPostgres(options: BackupPostgresOptions): Promise<PushResult> {
  const started = Date.now();
  const source = parseWith(SourceNameSchema, options.source, "source name");
  const createdAt = (options.now ?? (() => new Date()))();
  const setId = makeSetId(createdAt, randomBytes(6).toString("hex"));
  const progress = options.progress ?? noProgress;

  const child = spawn(options.pgDump ?? "pg_dump", ["--format=custom", `--dbname=${options.dbname}`], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf-8").on("data", (text: string) => {
    stderr = (stderr + text).slice(-4000);
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.on("error", (error) =>
      reject(
        new PgDumpError(
          "pg-dump-not-runnable",
          `could not run pg_dump: ${error.message}; is PostgreSQL's client installed?`,
          { cause: error },
        ),
      ),
    );
    child.on("close", (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new PgDumpError(
            "pg-dump-failed",
            `pg_dump failed (${signal ?? `exit ${code}`}): ${stderr.trim() || "no message"}`,
          ),
        );
    });
  });
  // Attach early so a spawn failure is never an unhandled rejection.
  exited.catch(() => {});

  progress.start(undefined);
  progress.component("main.dump");
  let uploaded: Awaited<ReturnType<typeof uploadHashing>>;
  try {
    uploaded = await uploadHashing({
      s3: options.s3,
      bucket: options.bucket,
      key: componentKey(source, setId, "main.dump"),
      body: child.stdout,
      onBytes: (count) => progress.advance(count),
      beforeComplete: () => exited,
    });
  } catch (error) {
    child.kill("SIGTERM");
    // pg_dump's own message says more than "upload aborted".
    await exited.catch((pgError: unknown) => {
      throw pgError;
    });
    throw error;
  } finally {
    progress.stop();
  }

  const components = [
    {
      name: "main.dump",
      key: uploaded.key,
      kind: "pg-dump" as const,
      size: uploaded.size,
      sha256: uploaded.sha256,
      checksum: uploaded.checksum,
    },
  ];
  return commitPushedSet(
    options.s3,
    options.bucket,
    {
      source,
      set_id: setId,
      created_at: createdAt.toISOString(),
      hostname: hostname(),
      server_version: options.serverVersion ?? null,
      master_key_id: options.masterKeyId ?? null,
      tags: options.tags ?? [],
      components,
      host_manifest: null,
    },
    started,
  );
}
