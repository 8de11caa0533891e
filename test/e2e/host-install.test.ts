import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFile, mkdtemp, readFile, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { REPOSITORY_ROOT } from "../../cli/local/paths";
import type { BackupEntry } from "../../shared/catalog/entry";
import { postgresAt } from "../support/postgres";
import { writeSeedBackup } from "../support/seed-backup";
import { REGION, startTestStack, type TestStack } from "../support/stack";

const run = promisify(execFile);

/** What `npm run build` makes for backup hosts (cli/build.ts). */
const HOST_BUNDLE = path.join(REPOSITORY_ROOT, "dist", "restorable-host.mjs");

let stack: TestStack;
let host: string;
let home: string;

beforeAll(async () => {
  stack = await startTestStack("host-install");
  try {
    await stat(HOST_BUNDLE);
  } catch {
    await run(
      process.execPath,
      [path.join(REPOSITORY_ROOT, "node_modules", "tsx", "dist", "cli.mjs"), "cli/build.ts"],
      {
        cwd: REPOSITORY_ROOT,
      },
    );
  }
  // As the README's install line does: the one file, executable, in a directory of its own.
  const directory = await mkdtemp(path.join(tmpdir(), "restorable-host-"));
  host = path.join(directory, "restorable");
  await copyFile(HOST_BUNDLE, host);
  home = await mkdtemp(path.join(tmpdir(), "restorable-home-"));
}, 240_000);

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the installed file as a host's cron job would: its own directory, a fresh HOME, the deployment in RESTORABLE_*. */
function hostCli(args: string[], options: { direct?: boolean } = {}): Promise<Result> {
  const command = options.direct ? host : process.execPath;
  return new Promise((resolve, reject) => {
    const child = spawn(command, options.direct ? args : [host, ...args], {
      cwd: path.dirname(host),
      env: {
        PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`,
        HOME: home,
        AWS_ACCESS_KEY_ID: "restorable-host",
        AWS_SECRET_ACCESS_KEY: "restorable-host",
        RESTORABLE_BUCKET: stack.deployment.bucket,
        RESTORABLE_TABLE: stack.deployment.table,
        RESTORABLE_REGION: REGION,
        RESTORABLE_ENDPOINT: stack.deployment.endpoint,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf-8").on("data", (text: string) => {
      stdout += text;
    });
    child.stderr.setEncoding("utf-8").on("data", (text: string) => {
      stderr += text;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const sha256 = async (file: string) =>
  createHash("sha256")
    .update(await readFile(file))
    .digest("hex");

describe("the one-file CLI for backup hosts (dist/restorable-host.mjs)", () => {
  it("runs from a directory with nothing around it: no node_modules, no checkout", async () => {
    const around = createRequire(host);
    expect(() => around.resolve("@aws-sdk/client-s3")).toThrow();
    expect(() => around.resolve("commander")).toThrow();
    expect(path.relative(REPOSITORY_ROOT, host).startsWith("..")).toBe(true);

    // Executable, through its own #!/usr/bin/env node, with the version baked in at build time.
    const version = await hostCli(["--version"], { direct: true });
    expect(version.code, version.stderr).toBe(0);
    const { version: expected } = JSON.parse(await readFile(path.join(REPOSITORY_ROOT, "package.json"), "utf-8"));
    expect(version.stdout.trim()).toBe(expected);

    const help = await hostCli(["--help"]);
    expect(help.code, help.stderr).toBe(0);
    for (const command of ["push", "backup", "restore", "catalog", "retention", "restic", "key", "drill", "alerts"]) {
      expect(help.stdout, command).toMatch(new RegExp(`^  ${command}\\b`, "m"));
    }
    // `local` starts the local stack from a checkout: not on a host.
    expect(help.stdout).not.toMatch(/^ {2}local\b/m);
  });

  it("pushes a seed-style backup directory that the catalog then lists COMPLETE, and restores it", async () => {
    const { directory } = await writeSeedBackup(postgresAt(inject("postgresPort")), { rows: 300 });
    const pushed = await hostCli(["push", directory, "--source", "s", "--json"]);
    expect(pushed.code, pushed.stderr).toBe(0);
    await stack.pump.drain();

    const listed = await hostCli(["catalog", "list", "--source", "s", "--json"]);
    expect(listed.code, listed.stderr).toBe(0);
    const [backup] = JSON.parse(listed.stdout).backups as BackupEntry[];
    expect(backup).toMatchObject({ status: "COMPLETE", source: "s", hostname: "db-primary" });

    const target = await mkdtemp(path.join(tmpdir(), "restorable-host-restore-"));
    const restored = await hostCli(["restore", backup?.id as string, "--to", target, "--json"]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await sha256(path.join(target, "main.dump"))).toBe(await sha256(path.join(directory, "main.dump")));
  });
});
