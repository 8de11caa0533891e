import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chown, mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { AgentReport, CheckResult } from "../../shared/drills/record";
import { RestorableError } from "../../shared/errors";

/**
 * The drill agent's local tools: finding and running programs (PostgreSQL's, restic, the smoke command) with
 * bounded output, and a throwaway PostgreSQL cluster to restore into. Nothing here imports the rest of the CLI,
 * so the agent runs from a bundle on an instance that has no checkout of this repository.
 */

/** The report's phases the checks are timed in. */
export type PhaseName = "download" | "verify" | "restore" | "checks";

/** What the agent gives the checks: where to work, when to stop, and where their results go. */
export interface CheckContext {
  /** The agent's own directory; everything under it is removed when the drill ends. */
  workDir: string;
  /** Aborted at the drill's deadline (or when the agent is stopped): the running program is stopped. */
  signal: AbortSignal;
  log(line: string): void;
  /** Adds a check's result to the report, in order; the agent takes secrets out of its detail. */
  record(check: CheckResult): void;
  /** Runs `work` as (part of) a phase: heartbeats name it, and its seconds add up into the report. */
  timed<T>(phase: PhaseName, work: () => Promise<T>): Promise<T>;
  bytes: { downloaded: number; restored: number };
  /** What the checks measured for the report, set as soon as it is known (a drill stopped later keeps it). */
  results: Pick<AgentReport, "baseline" | "resticSubset">;
}

/** A program the agent needs is not installed. */
export class MissingToolError extends RestorableError {}
/** The throwaway cluster could not be created or started. */
export class ThrowawayPostgresError extends RestorableError {}

export type PostgresTool = "initdb" | "pg_ctl" | "pg_restore" | "psql";

export function onPath(name: string): string | undefined {
  for (const directory of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(directory, name);
    if (directory && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** PostgreSQL's server binaries are off PATH on Debian: the newest installed major version, else PATH. */
export function postgresTool(name: PostgresTool): string {
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((version) => /^\d+$/.test(version))
      .sort((a, b) => Number(b) - Number(a));
    for (const version of versions) {
      const candidate = path.join(root, version, "bin", name);
      if (existsSync(candidate)) return candidate;
    }
  }
  const found = onPath(name);
  if (!found) throw new MissingToolError("missing-tool", `${name} not found: install PostgreSQL's server and client`);
  return found;
}

/** The agent's environment without libpq's variables (PGHOST, PGOPTIONS, …): the tools reach only the cluster. */
export function postgresEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("PG")));
}

/**
 * The repository's own checkout, when the agent runs from one (the local stack): found by walking up to our
 * package.json, undefined on an instance, where the agent runs from a bundle alone.
 */
export function repositoryRoot(start = path.dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let directory = start; ; directory = path.dirname(directory)) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(directory, "package.json"), "utf-8")) as { name?: string };
      if (manifest.name === "restorable") return directory;
    } catch {
      // no package.json here
    }
    if (path.dirname(directory) === directory) return undefined;
  }
}

/** The project's own restic build (`.tools/bin/restic`, as the tests use) when there is one, else restic on PATH. */
export function resticTool(): string {
  const root = repositoryRoot();
  const local = root ? path.join(root, ".tools", "bin", "restic") : undefined;
  if (local && existsSync(local)) return local;
  const found = onPath("restic");
  if (!found) throw new MissingToolError("missing-tool", "restic not found on PATH");
  return found;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Stops the program (its process group when `group`) when aborted. */
  signal?: AbortSignal;
  /** Stops the program after this long; the result says `timedOut`. */
  timeoutMs?: number;
  /** Run in a process group of its own, and stop the whole group: for shell commands that start others. */
  group?: boolean;
  /** Receives stdout as it arrives instead of keeping its tail (stderr's tail is still kept). */
  onStdout?: (text: string) => void;
  /** How many characters of output to keep (the last ones). */
  tail?: number;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last `tail` characters of stdout and stderr, interleaved as they arrived. */
  output: string;
  timedOut: boolean;
}

/** The grace between SIGTERM and SIGKILL when a program is stopped. */
const KILL_GRACE_MS = 3000;

/** Why a signal was aborted, as an Error. */
export function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error(reason === undefined ? "aborted" : String(reason));
}

/**
 * Runs a program to its end in bounded memory (only the tail of its output is kept) and never throws for its
 * exit status: the caller decides what a non-zero exit means. It throws when the program cannot start, and
 * with the signal's reason when the signal stopped it.
 */
export function runTool(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const limit = options.tail ?? 8000;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: options.group ?? false,
    });
    let output = "";
    let timedOut = false;
    let aborted = false;
    const keep = (text: string) => {
      output = (output + text).slice(-limit);
    };
    child.stdout.setEncoding("utf-8").on("data", options.onStdout ?? keep);
    child.stderr.setEncoding("utf-8").on("data", keep);
    const kill = (signal: NodeJS.Signals) => {
      try {
        if (options.group && child.pid !== undefined) process.kill(-child.pid, signal);
        else child.kill(signal);
      } catch {
        // already gone
      }
    };
    let killer: NodeJS.Timeout | undefined;
    const stop = () => {
      kill("SIGTERM");
      killer ??= setTimeout(() => kill("SIGKILL"), KILL_GRACE_MS);
    };
    const onAbort = () => {
      aborted = true;
      stop();
    };
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            stop();
          }, options.timeoutMs);
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    };
    child.on("error", (error) => {
      done();
      clearTimeout(killer);
      reject(new MissingToolError("tool-not-runnable", `could not run ${path.basename(command)}: ${error.message}`));
    });
    child.on("close", (code, signal) => {
      done();
      // Whatever the shell left behind in its group goes too; the SIGKILL timer stays only for that.
      if (options.group && (timedOut || aborted)) kill("SIGKILL");
      clearTimeout(killer);
      // Stopped from outside (the deadline): no result to judge, whatever the program said on its way out.
      if (aborted) reject(abortReason(options.signal));
      else resolve({ code, signal, output, timedOut });
    });
  });
}

/** The last `count` non-empty lines of a program's output, for a check's detail. */
export function lastLines(output: string, count = 10): string {
  return output
    .split("\n")
    .map((line) => line.trimEnd())
    .filter((line) => line !== "")
    .slice(-count)
    .join("\n");
}

/** A free loopback port (another process may still take it before the server does: start retries). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export interface ThrowawayCluster {
  host: string;
  port: number;
  user: string;
  /** A libpq connection string for `database`. */
  conninfo(database: string): string;
  /** Stops the server at once and removes its files. */
  stop(): Promise<void>;
}

/**
 * A PostgreSQL cluster of its own under `parent` (the agent's work directory, on the instance's big disk), on a
 * free loopback port, trusting local connections, with fsync off: it only ever holds a restore that is thrown
 * away. initdb refuses to run as root, so as root the server runs as the `postgres` system user; when that user
 * cannot reach `parent`, the cluster goes into a directory of its own under the system's temporary directory.
 */
export async function startThrowawayPostgres(parent: string, signal?: AbortSignal): Promise<ThrowawayCluster> {
  const asRoot = process.getuid?.() === 0;
  const directory = await clusterDirectory(parent, asRoot);
  const data = path.join(directory, "data");
  const as = async (command: string, args: string[], stoppable = true) => {
    const options = { env: postgresEnv(), ...(signal && stoppable ? { signal } : {}) };
    const result = asRoot
      ? await runTool("runuser", ["-u", "postgres", "--", command, ...args], options)
      : await runTool(command, args, options);
    if (result.code !== 0) {
      throw new ThrowawayPostgresError(
        "postgres-not-started",
        `${path.basename(command)} failed (${result.signal ?? `exit ${result.code}`}): ${lastLines(result.output, 5) || "no message"}`,
      );
    }
  };
  const remove = () => rm(directory, { recursive: true, force: true });
  try {
    await as(postgresTool("initdb"), [
      "-D",
      data,
      "-U",
      "postgres",
      "--auth=trust",
      "--no-sync",
      "-E",
      "UTF8",
      "--locale=C",
    ]);
    const port = await startServer(as, directory, data);
    return {
      host: "127.0.0.1",
      port,
      user: "postgres",
      conninfo: (database) => `host=127.0.0.1 port=${port} user=postgres dbname=${database}`,
      async stop() {
        // Also after the deadline: the signal must not stop the stop.
        await as(postgresTool("pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"], false).catch(() => {});
        await remove();
      },
    };
  } catch (error) {
    await remove();
    throw error;
  }
}

async function startServer(
  as: (command: string, args: string[]) => Promise<void>,
  directory: string,
  data: string,
): Promise<number> {
  let lastError: unknown;
  // The port is free when chosen; another process may take it before the server binds it, so try again.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    // No Unix socket: a work directory's path may be too long for one, and TCP on loopback is all we use.
    const settings = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    try {
      await as(postgresTool("pg_ctl"), [
        "-D",
        data,
        "-l",
        path.join(directory, "server.log"),
        "-o",
        settings,
        "-w",
        "start",
      ]);
      return port;
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function clusterDirectory(parent: string, asRoot: boolean): Promise<string> {
  const inside = path.join(parent, "postgres");
  await mkdir(inside, { recursive: true });
  if (!asRoot) return inside;
  const [uid, gid] = await postgresIds();
  await chown(inside, uid, gid);
  const reachable = await runTool("runuser", ["-u", "postgres", "--", "test", "-w", inside, "-a", "-x", inside]);
  if (reachable.code === 0) return inside;
  await rm(inside, { recursive: true, force: true });
  const outside = await mkdtemp(path.join(tmpdir(), "restorable-drill-pg-"));
  await chown(outside, uid, gid);
  return outside;
}

async function postgresIds(): Promise<[number, number]> {
  const [user, group] = await Promise.all([runTool("id", ["-u", "postgres"]), runTool("id", ["-g", "postgres"])]);
  if (user.code !== 0 || group.code !== 0) {
    throw new ThrowawayPostgresError(
      "no-postgres-user",
      "running as root, the cluster runs as the postgres system user, which does not exist: install PostgreSQL's server",
    );
  }
  return [Number(user.output.trim()), Number(group.output.trim())];
}
