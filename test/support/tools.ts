import { execFile, execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { TOOLS_DIRECTORY } from "../../cli/local/paths";

export const run = promisify(execFile);

/** restic ≥ 0.16 keeps the oldest snapshot when a bucket cannot be filled; the retention tests depend on it. */
export const RESTIC_MINIMUM = [0, 16] as const;
export const RESTIC_PINNED_VERSION = "v0.18.1";
export const LOCAL_RESTIC = path.join(TOOLS_DIRECTORY, "bin", "restic");

export function onPath(name: string): string | undefined {
  for (const directory of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(directory, name);
    if (directory && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** PostgreSQL's server binaries are off PATH on Debian; take the newest installed major version. */
export function postgresBinary(
  name: "initdb" | "pg_ctl" | "postgres" | "pg_dump" | "pg_restore" | "psql",
): string | undefined {
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const version of versions) {
      const candidate = path.join(root, version, "bin", name);
      if (existsSync(candidate)) return candidate;
    }
  }
  return onPath(name);
}

export function resticVersion(binary: string): [number, number, number] | undefined {
  try {
    const output = execFileSync(binary, ["version"], { encoding: "utf-8" });
    const match = /restic (\d+)\.(\d+)\.(\d+)/.exec(output);
    return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
  } catch {
    return undefined;
  }
}

export function resticIsRecentEnough(binary: string): boolean {
  const version = resticVersion(binary);
  if (!version) return false;
  return version[0] > RESTIC_MINIMUM[0] || (version[0] === RESTIC_MINIMUM[0] && version[1] >= RESTIC_MINIMUM[1]);
}

/** The restic the tests run: the project's own build, else one on PATH that is recent enough. */
export function resticBinary(): string | undefined {
  if (existsSync(LOCAL_RESTIC) && resticIsRecentEnough(LOCAL_RESTIC)) return LOCAL_RESTIC;
  const system = onPath("restic");
  return system && resticIsRecentEnough(system) ? system : undefined;
}
