import type { Command } from "commander";
import { s3Client } from "../aws";
import { deploymentFor, tagArgument } from "../context";
import { printJson, printTable } from "../output";
import type { PushResult } from "../upload/dump-set";
import { bytes, progressFor } from "../upload/progress";

interface TransferOptions {
  source: string;
  tag: string[];
  json?: boolean;
  progress: boolean;
}

export function registerPushCommands(program: Command): void {
  program
    .command("push")
    .description(
      "Upload a backup directory (as the backup script writes it) as one dump set: files as objects, " +
        "directories as streamed tar.gz archives, verified against its SHA256SUMS, manifest last",
    )
    .argument("<dir>", "the backup directory, e.g. /backups/codebolt/20250101_020000")
    .requiredOption("--source <name>", "the source this backup belongs to, e.g. codebolt-prod")
    .option("--tag <tag>", "tag the set (repeatable), e.g. --tag env:prod", tagArgument, [])
    .option("--json", "print a JSON summary for scripts")
    .option("--no-progress", "no progress bar")
    .addHelpText(
      "after",
      "\nPushing the same directory again finishes an interrupted push or reports the set as already pushed;\nit never creates a second set.",
    )
    .action(async (directory: string, options: TransferOptions, command: Command) => {
      const deployment = await deploymentFor(command);
      const { pushDirectory } = await import("../upload/dump-set");
      const result = await pushDirectory({
        s3: await s3Client(),
        bucket: deployment.bucket,
        directory,
        source: options.source,
        tags: options.tag,
        progress: progressFor(process.stderr, options.progress && !options.json),
      });
      report(result, options.json);
    });

  const backup = program.command("backup").description("Back up a database straight into the bucket");
  backup
    .command("postgres")
    .description("Stream `pg_dump -Fc` into the bucket as a one-component dump set (no temporary file)")
    .requiredOption("--source <name>", "the source this backup belongs to")
    .requiredOption("--dbname <conninfo>", "database name or libpq connection string, as for pg_dump --dbname")
    .option("--tag <tag>", "tag the set (repeatable)", tagArgument, [])
    .option("--master-key-id <id>", "the id of the master key this database's secrets are encrypted with")
    .option("--server-version <version>", "the application server version, recorded for restores")
    .option("--json", "print a JSON summary for scripts")
    .option("--no-progress", "no progress bar")
    .action(
      async (
        options: TransferOptions & { dbname: string; masterKeyId?: string; serverVersion?: string },
        command: Command,
      ) => {
        const deployment = await deploymentFor(command);
        const { backupPostgres } = await import("../upload/postgres");
        const result = await backupPostgres({
          s3: await s3Client(),
          bucket: deployment.bucket,
          source: options.source,
          dbname: options.dbname,
          tags: options.tag,
          ...(options.masterKeyId ? { masterKeyId: options.masterKeyId } : {}),
          ...(options.serverVersion ? { serverVersion: options.serverVersion } : {}),
          progress: progressFor(process.stderr, options.progress && !options.json),
        });
        report(result, options.json);
      },
    );
}

function report(result: PushResult, json: boolean | undefined): void {
  if (json) {
    printJson(result);
    return;
  }
  const verb = result.outcome === "pushed" ? "Pushed" : "Already pushed, nothing uploaded:";
  console.log(
    `${verb} set ${result.setId} of source ${result.source} (${bytes(result.bytes)} in ${result.seconds.toFixed(1)} s)`,
  );
  printTable(
    ["COMPONENT", "KIND", "SIZE", "SHA-256"],
    result.components.map((c) => [c.name, c.kind, String(c.size), c.sha256]),
  );
  console.log(`\nThe catalog lists it once indexed: restorable catalog show ${result.setId}`);
}
