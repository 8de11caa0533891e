import type { Command } from "commander";
import { s3Client } from "../../aws";
import { deploymentFor, listOf, tagArgument } from "../../context";
import { printJson } from "../../output/format";
import { printPushResult } from "../../output/push";
import { progressFor } from "../../upload/progress";
import type { TransferOptions } from "../push";

interface PostgresOptions extends TransferOptions {
  dbname: string;
  masterKeyId?: string;
  serverVersion?: string;
}

export function registerBackupPostgres(backup: Command): void {
  backup
    .command("postgres")
    .description("Stream `pg_dump -Fc` into the bucket as a one-component dump set (no temporary file)")
    .requiredOption("--source <name>", "the source this backup belongs to")
    .requiredOption("--dbname <conninfo>", "database name or libpq connection string, as for pg_dump --dbname")
    .option("--tag <tag>", "tag the set (repeatable)", tagArgument)
    .option("--master-key-id <id>", "the id of the master key this database's secrets are encrypted with")
    .option("--server-version <version>", "the application server version, recorded for restores")
    .option("--json", "print a JSON summary for scripts")
    .option("--no-progress", "no progress bar")
    .action(runBackupPostgres);
}

async function runBackupPostgres(options: PostgresOptions, command: Command): Promise<void> {
  const deployment = await deploymentFor(command);
  const { backupPostgres } = await import("../../upload/postgres");
  const result = await backupPostgres({
    s3: await s3Client(),
    bucket: deployment.bucket,
    source: options.source,
    dbname: options.dbname,
    tags: listOf(options.tag),
    ...(options.masterKeyId ? { masterKeyId: options.masterKeyId } : {}),
    ...(options.serverVersion ? { serverVersion: options.serverVersion } : {}),
    progress: progressFor(process.stderr, options.progress && !options.json),
  });
  if (options.json) return printJson(result);
  printPushResult(result);
}
