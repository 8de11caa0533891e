import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";
import { REPOSITORY_ROOT } from "../cli/local/paths";
import type { Deployment } from "../shared/contracts/deployment";

const run = promisify(execFile);

export interface Reference {
  name: string;
  value: number;
  unit: string;
}

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** Measured in the same run, on the same machine. */
  reference: Reference | null;
  /** value / reference.value */
  ratio: number | null;
  target: string;
  met: boolean;
  /** What the figure is bound by, measured in the same run, when that is known. */
  limitedBy?: string;
  /** Other references measured in the same run, shown beside the figure without a target of their own. */
  beside?: Array<Reference & { ratio: number }>;
}

export interface BenchContext {
  endpoint: string;
  /** The provisioned local deployment the benchmark runs against. */
  deployment: Deployment;
  bucket: string;
  table: string;
  queueUrl: string;
  scratch: string;
  log(line: string): void;
}

export interface Benchmark {
  name: string;
  run(context: BenchContext): Promise<BenchResult[]>;
}

export interface Measured {
  seconds: number;
  maxRssBytes: number;
  /** User + system CPU time of the command. */
  cpuSeconds: number;
  stdout: string;
}

/** Runs a command as its own process; wall time, CPU time and peak RSS come from bench/measure.py. */
export async function measure(command: string[], env: NodeJS.ProcessEnv = {}): Promise<Measured> {
  const { stdout } = await run("python3", [path.join(REPOSITORY_ROOT, "bench", "measure.py"), ...command], {
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
    cwd: REPOSITORY_ROOT,
  });
  const result = JSON.parse(stdout) as Measured & { code: number };
  if (result.code !== 0) throw new Error(`${command.join(" ")} exited ${result.code}`);
  return result;
}

/** Bundles a bench script the way cli/build.ts bundles the CLI, so both run on equal terms. */
export async function bundle(entry: string, outfile: string): Promise<string> {
  await build({
    entryPoints: [path.join(REPOSITORY_ROOT, entry)],
    outfile,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    mainFields: ["module", "main"],
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    logLevel: "warning",
  });
  return outfile;
}

export const CLI_BIN = path.join(REPOSITORY_ROOT, "cli", "bin", "restorable.mjs");

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export const round2 = (value: number) => Math.round(value * 100) / 100;

/**
 * Gives the emulator a core of its own and returns the command prefix that keeps measured processes
 * off it. On a host pushing to S3 the server is elsewhere; here moto (single-threaded, the bottleneck)
 * shares two cores with the process under test, and whichever process spends more CPU is slowed by
 * the contention rather than by its own work. Without taskset or a second core: no prefix.
 */
export async function isolateEmulator(endpoint: string, log: (line: string) => void): Promise<string[]> {
  const cpus = (await import("node:os")).availableParallelism();
  if (cpus < 2) return [];
  const port = new URL(endpoint).port;
  try {
    const { stdout } = await run("pgrep", ["-f", `moto_server .*-p ${port}`]);
    for (const pid of stdout.trim().split("\n")) await run("taskset", ["-a", "-p", "-c", String(cpus - 1), pid]);
  } catch (error) {
    log(`emulator not pinned to a core (${(error as Error).message.split("\n")[0]}); figures will vary more`);
    return [];
  }
  return ["taskset", "-c", cpus === 2 ? "0" : `0-${cpus - 2}`];
}

/**
 * CPU seconds the emulator serving `endpoint` has used so far (user + system, from /proc): a phase whose
 * emulator CPU time is close to its wall time was bound by the emulator's one Python process.
 */
export async function emulatorCpuSeconds(endpoint: string): Promise<number | undefined> {
  const port = new URL(endpoint).port;
  try {
    const { stdout } = await run("pgrep", ["-f", `moto_server -H 127.0.0.1 -p ${port}$`]);
    const pid = stdout.trim().split("\n").pop();
    const { readFile } = await import("node:fs/promises");
    const stat = await readFile(`/proc/${pid}/stat`, "utf-8");
    // Fields after the command name, which may hold spaces: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticksPerSecond = 100;
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return undefined;
  }
}
