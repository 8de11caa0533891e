import type { Command } from "commander";
import type { DumpSetEntry, ResticSnapshotEntry } from "../../shared/catalog/entry";
import type { Deployment } from "../../shared/contracts/deployment";
import { s3Client } from "../aws";
import { collect, listOf, usageError } from "../context";
import { INTERRUPTED_EXIT_CODE, onInterrupt } from "../interrupt";
import { resticEnvironment } from "../operator/restic-environment";
import { printJson, warn } from "../output/format";
import { printPgRestoreResult, printResticRestore, printRestoreResult, resticRestoreCommand } from "../output/restore";
import { servicesFor } from "../services";
import { progressFor } from "../upload/progress";
import { findBackup } from "./catalog/query";

interface RestoreOptions {
  to?: string;
  only?: string[];
  pgRestore?: string;
  asArchive?: boolean;
  force?: boolean;
  json?: boolean;
  progress: boolean;
}

export function registerRestore(program: Command): void {
  program
    .command("restore")
    .description(
      "Get a backup back: a dump set into a directory in the layout it was backed up from, every component " +
        "read at its pinned version and verified; for a restic snapshot, the restic command that restores it",
    )
    .argument("<id>", "backup id: a dump set id (or a unique start of it), a restic snapshot id or short id")
    .option("--to <dir>", "the directory to restore into; created if missing, and must be empty unless --force")
    .option("--only <name>", "restore only this component (repeatable): main.dump, shadow-git, …", collect)
    .option(
      "--pg-restore <conninfo>",
      "stream the dump named by --only straight into pg_restore --dbname <conninfo>, writing nothing to disk",
    )
    .option("--as-archive", "write directory archives and a helper's archive as .tar.gz files, not unpacked")
    .option("--force", "restore into a directory that is not empty, replacing what has the set's names")
    .option("--json", "print a JSON summary for scripts")
    .option("--no-progress", "no progress bar")
    .addHelpText(
      "after",
      "\nNothing is left under a final name before it verified: files are written under a temporary name and renamed,\n" +
        "archives are unpacked beside their directory and moved into place. A mismatch stops with exit 1 naming the\n" +
        "component; after one, or Ctrl-C, the same command restarts the restore.\n" +
        "--pg-restore restores as it reads, so a mismatch found at the dump's last byte comes after pg_restore ran:\n" +
        "give it a scratch database (createdb codebolt_tmp) and copy the rows you need from there.",
    )
    .action(restore);
}

async function restore(id: string, options: RestoreOptions, command: Command): Promise<void> {
  if (options.pgRestore !== undefined && listOf(options.only).length !== 1) {
    usageError(command, "--pg-restore takes the one dump to restore: --only main.dump");
  }
  if (options.pgRestore !== undefined && options.to !== undefined) {
    usageError(command, "--pg-restore writes nothing to disk: leave out --to");
  }
  const { deployment, catalog } = await servicesFor(command);
  const backup = await findBackup(catalog, id);
  if (backup.kind === "restic") return printResticCommand(backup, options, deployment);
  if (options.pgRestore !== undefined) return restoreDatabase(backup, options.pgRestore, options, deployment);
  if (options.to === undefined) usageError(command, "give the directory to restore into: --to <dir>");
  return restoreFiles(backup, options.to, options, deployment);
}

async function restoreFiles(entry: DumpSetEntry, to: string, options: RestoreOptions, deployment: Deployment) {
  const { restoreSet, RestoreInterruptedError } = await import("../restore/restore-set");
  const interrupt = onInterrupt();
  try {
    const result = await restoreSet({
      s3: await s3Client(),
      bucket: deployment.bucket,
      entry,
      to,
      only: listOf(options.only),
      asArchive: options.asArchive ?? false,
      force: options.force ?? false,
      progress: progressFor(process.stderr, options.progress && !options.json),
      signal: interrupt.signal,
    });
    for (const c of result.components) for (const text of c.warnings) warn(`warning: ${c.name}: ${text}`);
    if (options.json) return printJson(result);
    printRestoreResult(result, entry);
  } catch (error) {
    if (!(error instanceof RestoreInterruptedError)) throw error;
    warn(error.message);
    process.exitCode = INTERRUPTED_EXIT_CODE;
  } finally {
    interrupt.dispose();
  }
}

async function restoreDatabase(entry: DumpSetEntry, dbname: string, options: RestoreOptions, deployment: Deployment) {
  const { restoreIntoPostgres } = await import("../restore/pg-restore");
  const interrupt = onInterrupt();
  try {
    const result = await restoreIntoPostgres({
      s3: await s3Client(),
      bucket: deployment.bucket,
      entry,
      dump: listOf(options.only)[0] as string,
      dbname,
      progress: progressFor(process.stderr, options.progress && !options.json),
      signal: interrupt.signal,
    });
    if (options.json) return printJson(result);
    printPgRestoreResult(result);
  } finally {
    interrupt.dispose();
  }
}

/** restic restores its own snapshots: the exact command, with this deployment's repository URL. */
function printResticCommand(snapshot: ResticSnapshotEntry, options: RestoreOptions, deployment: Deployment): void {
  const restore = resticRestoreCommand(snapshot, deployment, options.to);
  const { env, credentials } = resticEnvironment(snapshot.repository, deployment);
  if (options.json) printJson({ id: snapshot.id, kind: "restic", ...restore, env, credentials });
  else printResticRestore(snapshot, restore, env);
}
