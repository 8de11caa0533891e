import { stat } from "node:fs/promises";
import type { Command } from "commander";
import { InvalidInputError } from "../../shared/errors";
import { s3Client } from "../aws";
import { deploymentFor, listOf, tagArgument } from "../context";
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
export const INTERRUPTED_EXIT_CODE = 130;

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
    .option("--require-checksums", "refuse a directory without SHA256SUMS (pushed with a warning otherwise)")
    .option("--json", "print a JSON summary for scripts")
    .option("--no-progress", "no progress bar")
    .addHelpText(
      "after",
      "\nPushing the same directory again finishes an interrupted push (Ctrl-C aborts the open upload and commits\n" +
        "nothing) or reports the set as already pushed; it never creates a second set.",
    )
    .action(push);
}

async function push(directory: string, options: PushOptions, command: Command): Promise<void> {
  await checkBackupPath(directory);
  const deployment = await deploymentFor(command);
  const { pushDirectory, PushInterruptedError } = await import("../upload/dump-set");
  const interrupt = onInterrupt();
  try {
    const result = await pushDirectory({
      s3: await s3Client(),
      bucket: deployment.bucket,
      directory,
      source: options.source,
      tags: listOf(options.tag),
      progress: progressFor(process.stderr, options.progress && !options.json),
      requireChecksums: options.requireChecksums ?? false,
      warn: (message) => warn(`warning: ${message}`),
      abortSignal: interrupt.signal,
    });
    const dropped = tagsNotAdded(result, listOf(options.tag));
    if (options.json) return printJson(dropped.length > 0 ? { ...result, tagsNotAdded: dropped } : result);
    printPushResult(result, listOf(options.tag));
  } catch (error) {
    // pushDirectory stopped the progress bar (and with it restored the cursor and line wrap) on its way out.
    if (!(error instanceof PushInterruptedError)) throw error;
    warn(error.message);
    process.exitCode = INTERRUPTED_EXIT_CODE;
  } finally {
    interrupt.dispose();
  }
}

/**
 * Ctrl-C aborts the push: the open multipart upload is aborted and nothing is committed, so the same command
 * finishes the set later. A second Ctrl-C stops at once, putting the terminal back as the bar left it.
 */
function onInterrupt(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const handler = () => {
    if (!controller.signal.aborted) return controller.abort();
    // Show the cursor and turn line wrap back on, as the bar's stop() would have.
    if (process.stderr.isTTY) process.stderr.write("\u001b[?25h\u001b[?7h\n");
    process.exit(INTERRUPTED_EXIT_CODE);
  };
  process.on("SIGINT", handler);
  return { signal: controller.signal, dispose: () => process.removeListener("SIGINT", handler) };
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
