import { stat } from "node:fs/promises";
import type { Command } from "commander";
import { InvalidInputError } from "../../shared/errors";
import { s3Client } from "../aws";
import { deploymentFor, listOf, tagArgument } from "../context";
import { INTERRUPTED_EXIT_CODE, onInterrupt } from "../interrupt";
import { printJson, warn } from "../output/format";
import { printPushResult, tagsNotAdded } from "../output/push";
import { progressFor } from "../upload/progress";

export interface TransferOptions {
  source: string;
  tag?: string[];
  json?: boolean;
  progress: boolean;
}

interface PushOptions extends TransferOptions {
  requireChecksums?: boolean;
}

/** What a shell reports for a command stopped by Ctrl-C: 128 + SIGINT. */
export { INTERRUPTED_EXIT_CODE } from "../interrupt";

export function registerPush(program: Command): void {
  program
    .command("push")
    .description(
      "Upload a backup directory (as the backup script writes it) as one dump set: files as objects, " +
        "directories as streamed tar.gz archives, verified against its SHA256SUMS, manifest last; or the " +
        "helper's single .tar.gz (or .tar) archive as a set of one, read and verified as it uploads",
    )
    .argument(
      "<path>",
      "the backup directory, e.g. /backups/codebolt/20250101_020000, or archive, e.g. /backups/codebolt/20261203.tar.gz",
    )
    .requiredOption("--source <name>", "the source this backup belongs to, e.g. codebolt-prod")
    .option("--tag <tag>", "tag the set (repeatable), e.g. --tag env:prod", tagArgument)
    .option("--require-checksums", "refuse a directory without SHA256SUMS (pushed with a warning otherwise)")
    .option("--json", "print a JSON summary for scripts")
    .option("--no-progress", "no progress bar")
    .addHelpText(
      "after",
      "\nPushing the same directory again finishes an interrupted push (Ctrl-C aborts the open upload and commits\n" +
        "nothing) or reports the set as already pushed; it never creates a second set. The same holds for an archive;\n" +
        "one that is truncated, damaged, or does not match its own SHA256SUMS is refused before anything is committed.",
    )
    .action(push);
}

async function push(backupPath: string, options: PushOptions, command: Command): Promise<void> {
  const kind = await checkBackupPath(backupPath);
  const deployment = await deploymentFor(command);
  const { pushDirectory, PushInterruptedError } = await import("../upload/dump-set");
  const { pushArchive } = await import("../upload/archive");
  const interrupt = onInterrupt();
  try {
    const common = {
      s3: await s3Client(),
      bucket: deployment.bucket,
      source: options.source,
      tags: listOf(options.tag),
      progress: progressFor(process.stderr, options.progress && !options.json),
      requireChecksums: options.requireChecksums ?? false,
      warn: (message: string) => warn(`warning: ${message}`),
      abortSignal: interrupt.signal,
    };
    const result =
      kind === "archive"
        ? await pushArchive({ ...common, file: backupPath })
        : await pushDirectory({ ...common, directory: backupPath });
    const dropped = tagsNotAdded(result, listOf(options.tag));
    if (options.json) return printJson(dropped.length > 0 ? { ...result, tagsNotAdded: dropped } : result);
    printPushResult(result, listOf(options.tag));
  } catch (error) {
    // pushDirectory and pushArchive stopped the progress bar (and with it restored the cursor and line wrap) on its way out.
    if (!(error instanceof PushInterruptedError)) throw error;
    warn(error.message);
    process.exitCode = INTERRUPTED_EXIT_CODE;
  } finally {
    interrupt.dispose();
  }
}

/**
 * What `push` takes: an existing directory, or a file named like an archive (.tar.gz, .tgz, .tar). Checked
 * before anything else, so a mistyped path is one clear line (exit 2) rather than a file system error from deep
 * in the upload.
 */
export async function checkBackupPath(backupPath: string): Promise<"directory" | "archive"> {
  const stats = await stat(backupPath).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT" || error.code === "ENOTDIR") return null;
    throw error;
  });
  const archive = /\.(tar\.gz|tgz|tar)$/.test(backupPath);
  if (!stats) {
    const what = archive ? "file" : "directory";
    throw new InvalidInputError(`no-such-${what}`, `no such ${what}: ${backupPath}`);
  }
  if (stats.isDirectory()) return "directory";
  if (archive && stats.isFile()) return "archive";
  throw new InvalidInputError("not-a-directory", `not a directory, nor a .tar.gz, .tgz or .tar archive: ${backupPath}`);
}
