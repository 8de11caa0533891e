import { stat } from "node:fs/promises";
import type { Command } from "commander";
import { InvalidInputError } from "../../shared/errors";
import { s3Client } from "../aws";
import { deploymentFor, listOf, tagArgument } from "../context";
import { printJson } from "../output/format";
import { printPushResult } from "../output/push";
import { progressFor } from "../upload/progress";

export interface TransferOptions {
  source: string;
  tag?: string[];
  json?: boolean;
  progress: boolean;
}

export function registerPush(program: Command): void {
  program
    .command("push")
    .description(
      "Upload a backup directory (as the backup script writes it) as one dump set: files as objects, " +
        "directories as streamed tar.gz archives, verified against its SHA256SUMS, manifest last",
    )
    .argument("<dir>", "the backup directory, e.g. /backups/codebolt/20250101_020000")
    .requiredOption("--source <name>", "the source this backup belongs to, e.g. codebolt-prod")
    .option("--tag <tag>", "tag the set (repeatable), e.g. --tag env:prod", tagArgument)
    .option("--json", "print a JSON summary for scripts")
    .option("--no-progress", "no progress bar")
    .addHelpText(
      "after",
      "\nPushing the same directory again finishes an interrupted push or reports the set as already pushed;\nit never creates a second set.",
    )
    .action(push);
}

async function push(directory: string, options: TransferOptions, command: Command): Promise<void> {
  await checkBackupPath(directory);
  const deployment = await deploymentFor(command);
  const { pushDirectory } = await import("../upload/dump-set");
  const result = await pushDirectory({
    s3: await s3Client(),
    bucket: deployment.bucket,
    directory,
    source: options.source,
    tags: listOf(options.tag),
    progress: progressFor(process.stderr, options.progress && !options.json),
  });
  if (options.json) return printJson(result);
  printPushResult(result);
}

/**
 * What `push` takes: an existing directory. Checked before anything else, so a mistyped path is one clear
 * line (exit 2) rather than a file system error from deep in the upload.
 */
export async function checkBackupPath(backupPath: string): Promise<void> {
  const stats = await stat(backupPath).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT" || error.code === "ENOTDIR") return null;
    throw error;
  });
  if (!stats) throw new InvalidInputError("no-such-directory", `no such directory: ${backupPath}`);
  if (!stats.isDirectory()) throw new InvalidInputError("not-a-directory", `not a directory: ${backupPath}`);
}
