import type { Dirent } from "node:fs";
import { lstat, mkdir, readdir } from "node:fs/promises";
import * as path from "node:path";
import type { ResticDrill, ResticPrune } from "../../shared/drills/agent-config";
import { type CheckContext, lastLines, type RunResult, resticTool, runTool } from "./postgres";

/** Where a snapshot is restored, restic's cache and its temporary files go, under the work directory. */
export const RESTIC_DIRECTORIES = { restore: "restic-restore", cache: "restic-cache", temporary: "restic-tmp" };

/**
 * The checks of a restic snapshot: `restic-restore` restores it and compares the files and bytes restored with
 * the snapshot's summary; `restic-check` reads the drill's subset of the repository's packs. Both run whatever
 * the other found. The subset checked goes into `context.results`.
 */
export async function runResticChecks(drill: ResticDrill, context: CheckContext): Promise<void> {
  const directories = {
    restore: path.join(context.workDir, RESTIC_DIRECTORIES.restore),
    cache: path.join(context.workDir, RESTIC_DIRECTORIES.cache),
    temporary: path.join(context.workDir, RESTIC_DIRECTORIES.temporary),
  };
  for (const directory of Object.values(directories)) await mkdir(directory, { recursive: true });
  const restic = resticRunner(drill, directories, context);
  await context.timed("restore", () => checkRestore(drill, directories.restore, restic, context));
  await context.timed("verify", () => checkRepository(drill, restic, context));
}

/**
 * The maintenance job: `restic prune` (restic takes its exclusive lock, and waits out or refuses others'
 * locks, by its own protocol), then `restic check` of the structure it left. `restic-prune` records what prune
 * said it removed; both run whatever the other found.
 */
export async function runResticPrune(job: ResticPrune, context: CheckContext): Promise<void> {
  const directories = {
    cache: path.join(context.workDir, RESTIC_DIRECTORIES.cache),
    temporary: path.join(context.workDir, RESTIC_DIRECTORIES.temporary),
  };
  for (const directory of Object.values(directories)) await mkdir(directory, { recursive: true });
  const restic = resticRunner(job, directories, context);
  /** Runs one restic command as a check: passed on exit 0, with its last lines either way. */
  const asCheck = async (name: string, args: string[], whenQuiet: string) => {
    context.log(`${name}: restic ${args.join(" ")} of ${job.repositoryName}`);
    const result = await restic(args);
    const passed = result.code === 0;
    context.record({
      name,
      passed,
      detail: passed
        ? lastLines(result.output, 4) || whenQuiet
        : `restic ${args[0]} failed (${result.signal ?? `exit ${result.code}`}): ${lastLines(result.output, 8)}`,
    });
  };
  await context.timed("restore", () => asCheck("restic-prune", ["prune"], "nothing to prune"));
  await context.timed("verify", () => asCheck("restic-check", ["check"], "no errors were found"));
}

type Restic = (args: string[]) => Promise<RunResult>;

/** Runs restic against the drill's repository, with its environment and password and nothing of ours. */
function resticRunner(
  drill: ResticDrill | ResticPrune,
  directories: { cache: string; temporary: string },
  context: CheckContext,
) {
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("RESTIC_") && !name.startsWith("RESTORABLE_")),
  );
  Object.assign(env, drill.environment, { RESTIC_PASSWORD: drill.password, TMPDIR: directories.temporary });
  const binary = resticTool();
  return (args: string[]): Promise<RunResult> =>
    runTool(binary, ["-r", drill.repository, "--cache-dir", directories.cache, ...args], {
      env,
      signal: context.signal,
    });
}

async function checkRestore(drill: ResticDrill, target: string, restic: Restic, context: CheckContext) {
  context.log(`restic-restore: restoring snapshot ${drill.snapshotId.slice(0, 8)}`);
  const result = await restic(["restore", drill.snapshotId, "--target", target]);
  if (result.code !== 0) {
    const why = lastLines(result.output, 5) || `exit ${result.code}`;
    return context.record({ name: "restic-restore", passed: false, detail: `restic restore failed: ${why}` });
  }
  const restored = await countFiles(target);
  context.bytes.restored += restored.bytes;
  context.bytes.downloaded += await rawDataSize(drill, restic);
  const problems: string[] = [];
  const { files, bytes } = drill.expected;
  if (files !== null && files !== restored.files)
    problems.push(`${restored.files} files restored, the snapshot recorded ${files}`);
  if (bytes !== null && bytes !== restored.bytes)
    problems.push(`${restored.bytes} bytes restored, the snapshot recorded ${bytes}`);
  const expected =
    files === null && bytes === null
      ? " (the snapshot records no summary to compare with)"
      : ", as the snapshot records";
  context.record({
    name: "restic-restore",
    passed: problems.length === 0,
    detail: problems.length
      ? problems.join("; ")
      : `${restored.files} files, ${restored.bytes} bytes restored${expected}`,
  });
}

/** What restore read from the repository: the snapshot's blobs as stored (compressed, encrypted). 0 if unknown. */
async function rawDataSize(drill: ResticDrill, restic: Restic): Promise<number> {
  const result = await restic(["stats", "--mode", "raw-data", "--json", drill.snapshotId]).catch(() => undefined);
  if (result?.code !== 0) return 0;
  try {
    const stats = JSON.parse(lastLines(result.output, 1)) as { total_size?: unknown };
    return typeof stats.total_size === "number" ? stats.total_size : 0;
  } catch {
    return 0;
  }
}

/** Regular files and their bytes under `root`, as restic's summary counts them (directories and links aside). */
export async function countFiles(root: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  const pending = [root];
  for (let directory = pending.pop(); directory !== undefined; directory = pending.pop()) {
    const entries: Dirent[] = await readdir(directory, { withFileTypes: true });
    for (const entry of entries) {
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) pending.push(full);
      else if (entry.isFile()) {
        files++;
        bytes += (await lstat(full)).size;
      }
    }
  }
  return { files, bytes };
}

async function checkRepository(drill: ResticDrill, restic: Restic, context: CheckContext) {
  const subset = `${drill.subset.k}/${drill.subset.n}`;
  context.log(`restic-check: restic check --read-data-subset=${subset}`);
  context.results.resticSubset = drill.subset;
  const result = await restic(["check", `--read-data-subset=${subset}`]);
  const passed = result.code === 0;
  const output = lastLines(result.output, passed ? 1 : 8);
  context.record({
    name: "restic-check",
    passed,
    detail: passed
      ? `read-data-subset ${subset}: ${output || "no errors were found"}`
      : `restic check --read-data-subset=${subset} failed (${result.signal ?? `exit ${result.code}`}): ${output}`,
  });
}
