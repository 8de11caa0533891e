import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { resticBinary, run } from "./tools";

/** Where a repository is and how to open it; the same shape for local paths and S3 repositories. */
export interface ResticAccess {
  /** Any repository restic takes with `-r`: a local path, `s3:http://127.0.0.1:PORT/bucket/prefix`, … */
  repository: string;
  password: string;
  /** Added over the test process's environment, e.g. AWS credentials for an S3 repository. */
  env?: Record<string, string | undefined>;
}

export class ResticCommandError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
    options: { cause: unknown },
  ) {
    super(`restic ${args.join(" ")} failed: ${stderr.trim()}`, options);
    this.name = "ResticCommandError";
  }
}

function binary(): string {
  const found = resticBinary();
  if (!found) throw new Error("restic ≥ 0.16 not found: npm test builds it into .tools/bin (Go needed)");
  return found;
}

/** Runs restic against the repository and returns its stdout; a non-zero exit throws with stderr. */
export async function restic(args: readonly string[], access: ResticAccess): Promise<string> {
  const fullArgs = ["--no-cache", "-r", access.repository, ...args];
  try {
    const { stdout } = await run(binary(), fullArgs, {
      env: {
        ...process.env,
        // A developer's own restic settings must not leak into the tests.
        RESTIC_REPOSITORY: undefined,
        RESTIC_REPOSITORY_FILE: undefined,
        RESTIC_PASSWORD_FILE: undefined,
        RESTIC_PASSWORD_COMMAND: undefined,
        ...access.env,
        RESTIC_PASSWORD: access.password,
      },
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new ResticCommandError(args, stderr, { cause: error });
  }
}

/** Runs a restic command that takes `--json` and parses its output. */
export async function resticJson<T = unknown>(args: readonly string[], access: ResticAccess): Promise<T> {
  return JSON.parse(await restic([...args, "--json"], access)) as T;
}

export interface ResticBackupOptions {
  host?: string;
  tags?: string[];
  /** restic's `--time` format, e.g. "2025-01-02 03:04:05" (read in the local zone). */
  time?: string;
}

export interface ResticFixtureOptions extends ResticAccess {
  repositoryVersion?: 1 | 2;
  /** One backup per entry; by default two, a day apart, tagged like a workspace's backup-on-stop. */
  backups?: ResticBackupOptions[];
}

export interface ResticFixture {
  access: ResticAccess;
  /** The directory backed up; each backup changes a file, so successive snapshots have different trees. */
  sourceDirectory: string;
  /** The snapshots made, in order; with the same host, each after the first has the one before as parent. */
  snapshotIds: string[];
  backup(options?: ResticBackupOptions): Promise<string>;
  /** Removes the source directory (the repository belongs to the caller). */
  cleanup(): Promise<void>;
}

export const WORKSPACE_BACKUP: Required<Omit<ResticBackupOptions, "time">> = {
  host: "ws1",
  tags: ["workspace-id:abc", "workspace-owner:john"],
};

/** Initialises a repository at `repository` and makes the requested backups of a small temporary directory. */
export async function makeResticFixture(options: ResticFixtureOptions): Promise<ResticFixture> {
  const access: ResticAccess = { repository: options.repository, password: options.password, env: options.env };
  const sourceDirectory = await mkdtemp(path.join(tmpdir(), "restorable-restic-source-"));
  await writeFile(path.join(sourceDirectory, "README.md"), "a workspace\n");
  await restic(["init", "--repository-version", String(options.repositoryVersion ?? 2), "--quiet"], access);

  let generation = 0;
  const snapshotIds: string[] = [];
  const backup = async ({ host, tags = [], time }: ResticBackupOptions = {}): Promise<string> => {
    generation++;
    await writeFile(path.join(sourceDirectory, "work.txt"), `generation ${generation}\n`.repeat(100));
    const args = ["backup", sourceDirectory, "--json"];
    if (host) args.push("--host", host);
    for (const tag of tags) args.push("--tag", tag);
    if (time) args.push("--time", time);
    const summary = (await restic(args, access))
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { message_type?: string; snapshot_id?: string })
      .find((message) => message.message_type === "summary");
    if (!summary?.snapshot_id) throw new Error("restic backup printed no summary with a snapshot id");
    snapshotIds.push(summary.snapshot_id);
    return summary.snapshot_id;
  };

  const backups = options.backups ?? [
    { ...WORKSPACE_BACKUP, time: "2025-01-02 03:04:05" },
    { ...WORKSPACE_BACKUP, time: "2025-01-03 03:04:05" },
  ];
  for (const each of backups) await backup(each);

  return {
    access,
    sourceDirectory,
    snapshotIds,
    backup,
    cleanup: () => rm(sourceDirectory, { recursive: true, force: true }),
  };
}
