import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { afterAll, describe, expect, inject, it } from "vitest";
import { freePort, type RunningEmulator, startEmulator } from "../../cli/local/moto";
import { postgresAt } from "../support/postgres";
import { writeSeedBackup } from "../support/seed-backup";
import { CLI, runCli } from "../support/stack";

const localStacks: ChildProcess[] = [];
const externalEmulators: RunningEmulator[] = [];

afterAll(async () => {
  await Promise.all(externalEmulators.map((emulator) => emulator.stop()));
  for (const child of localStacks) {
    try {
      // Each stack runs in a process group of its own, as a terminal's foreground job does.
      process.kill(-(child.pid as number), "SIGKILL");
    } catch {
      // already gone
    }
  }
});

/** What a new user does: start the stack in one terminal, push and list from another. */
describe("the local stack", () => {
  it("starts, takes a push from another process, lists it, and stops cleanly on Ctrl-C", async () => {
    const { child, workspace, stateFile, port, output } = await startLocalStack();
    expect(output()).toContain(`emulator   http://127.0.0.1:${port}`);
    expect(output()).toMatch(/master key mk-[0-9a-f]{16} \(fingerprint mk-[0-9a-f]{16}\)/);
    // What restic needs to reach the stack, which it cannot guess ("no credentials found").
    expect(output()).toContain(
      "  export AWS_ACCESS_KEY_ID=restorable-local\n  export AWS_SECRET_ACCESS_KEY=restorable-local",
    );
    expect(output()).toContain("  export AWS_DEFAULT_REGION=us-east-1");
    expect(existsSync(stateFile)).toBe(true);

    // The other terminal: no flags, no variables; the CLI finds the stack through the state file.
    const env = ANOTHER_TERMINAL;
    const { pushed, listed } = await pushUntilListed(workspace, "laptop");
    expect(pushed.stdout).toMatch(/^Pushed set \d{8}T\d{6}Z-[0-9a-f]{12} of source laptop/);
    expect(listed).toMatch(/^SOURCE\s+KIND\s+LATEST\s+STATUS/);
    expect(listed).toMatch(/laptop\s+dumpset\s+\S+ \(2025-01-01 02:00:00Z\)\s+COMPLETE/);
    // The stack registered only its own generated key, so the seed's key id is flagged at ingest.
    const bySource = await runCli(["catalog", "list", "--source", "laptop"], { cwd: workspace, env });
    expect(bySource.stdout).toContain("master key mk-2025-01 is not held by the service");

    // A second `npm start` in the same checkout leaves the live stack's state file alone.
    const before = readFileSync(stateFile, "utf-8");
    const second = await runCli(["local", "start", "--port", String(await freePort()), "--state-file", stateFile], {
      cwd: workspace,
      env,
    });
    expect(second.code, second.stderr).toBe(2);
    expect(second.stderr).toContain(`a local stack is already running (pid ${child.pid}`);
    expect(readFileSync(stateFile, "utf-8")).toBe(before);
    expect((await runCli(["catalog", "list"], { cwd: workspace, env })).code).toBe(0);

    // Ctrl-C in a terminal signals the whole foreground process group, not the CLI alone.
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(-(child.pid as number), "SIGINT");
    expect(await exited).toBe(0);
    expect(output()).toContain("stopped");
    // The handlers stop before the emulator does: no poll or scheduled run fails on the way out.
    expect(output()).not.toContain("[error]");
    expect(existsSync(stateFile)).toBe(false);
  });

  it("says so and exits non-zero when its emulator dies, instead of logging connection errors forever", async () => {
    const { child, stateFile, port, output } = await startLocalStack();
    const exited = new Promise((resolve) => child.once("exit", resolve));
    const emulator = spawnSync("pkill", ["-f", `moto_server -H 127.0.0.1 -p ${port}$`]);
    expect(emulator.status, "no emulator found to kill").toBe(0);
    expect(await exited).toBe(1);
    expect(output()).toContain("the emulator (moto server) exited unexpectedly");
    expect(existsSync(stateFile)).toBe(false);
  });
});

describe("the local stack against an emulator that is already running (npm start -- --endpoint)", () => {
  it("provisions into it, takes a push, and leaves it running with everything in it on Ctrl-C", async () => {
    // Started separately, as LocalStack or a shared moto would be.
    const external = await startEmulator();
    externalEmulators.push(external);
    const { child, workspace, stateFile, output } = await startLocalStack(external.endpoint);
    expect(output()).toContain(`starting the local stack against ${external.endpoint}`);
    expect(output()).toContain(`emulator   ${external.endpoint} (already running;`);

    const env = ANOTHER_TERMINAL;
    await pushUntilListed(workspace, "elsewhere");
    const state = JSON.parse(readFileSync(stateFile, "utf-8")) as { endpoint: string; bucket: string };
    expect(state.endpoint).toBe(external.endpoint);

    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(-(child.pid as number), "SIGINT");
    expect(await exited).toBe(0);
    expect(output()).not.toContain("[error]");
    expect(existsSync(stateFile)).toBe(false);
    // Not ours to stop: the emulator still answers, and still holds the pushed set.
    expect(external.process.exitCode).toBeNull();
    const s3 = new S3Client({
      endpoint: external.endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    const objects = await s3.send(new ListObjectsV2Command({ Bucket: state.bucket, Prefix: "sets/elsewhere/" }));
    expect(objects.KeyCount).toBeGreaterThan(0);

    // A second start against it finds its resources there and uses them as they are.
    const again = await startLocalStack(external.endpoint);
    const listedAgain = await runCli(["catalog", "list"], { cwd: again.workspace, env });
    expect(listedAgain.stdout).toContain("elsewhere");
    const exitedAgain = new Promise((resolve) => again.child.once("exit", resolve));
    process.kill(-(again.child.pid as number), "SIGINT");
    expect(await exitedAgain).toBe(0);
  }, 180_000);

  it("says nothing answers at an endpoint where no emulator runs, and what to do", async () => {
    const workspace = await mkdtemp(path.join(tmpdir(), "restorable-local-"));
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const started = await runCli(["local", "start", "--endpoint", endpoint], { cwd: workspace, env: {} });
    expect(started.code).not.toBe(0);
    expect(started.stderr).toContain(`nothing answers at ${endpoint}: start the emulator first`);
    const both = await runCli(["local", "start", "--endpoint", endpoint, "--port", "4999"], {
      cwd: workspace,
      env: {},
    });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("give one of them");
  });
});

/**
 * `restorable local start` in a fresh workspace, as `npm start` runs it; resolves once it prints ready.
 * With an endpoint, as `npm start -- --endpoint <url>` runs it.
 */
/** The CLI in another terminal: no flags, no variables; it finds the stack through the state file. */
const ANOTHER_TERMINAL = { AWS_ENDPOINT_URL: undefined, RESTORABLE_BUCKET: undefined, RESTORABLE_TABLE: undefined };

/** Pushes a seed-style set from another terminal and waits until `catalog list` shows it COMPLETE. */
async function pushUntilListed(workspace: string, source: string) {
  const env = ANOTHER_TERMINAL;
  const { directory } = await writeSeedBackup(postgresAt(inject("postgresPort")), { rows: 10 });
  const pushed = await runCli(["push", directory, "--source", source], { cwd: workspace, env });
  expect(pushed.code, pushed.stderr).toBe(0);
  let listed = "";
  await waitFor(
    async () => {
      listed = (await runCli(["catalog", "list"], { cwd: workspace, env })).stdout;
      return listed.includes("COMPLETE");
    },
    30_000,
    () => listed,
  );
  return { pushed, listed };
}

async function startLocalStack(endpoint?: string) {
  const workspace = await mkdtemp(path.join(tmpdir(), "restorable-local-"));
  const stateFile = path.join(workspace, ".restorable", "local.json");
  const port = await freePort();
  const where = endpoint ? ["--endpoint", endpoint] : ["--port", String(port)];
  const child = spawn(process.execPath, [CLI, "local", "start", ...where, "--state-file", stateFile], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, AWS_ENDPOINT_URL: undefined },
    detached: true,
  });
  localStacks.push(child);
  let output = "";
  child.stdout?.setEncoding("utf-8").on("data", (text: string) => {
    output += text;
  });
  child.stderr?.setEncoding("utf-8").on("data", (text: string) => {
    output += text;
  });
  await waitFor(
    () => output.includes("\nready\n"),
    60_000,
    () => output,
  );
  return { child, workspace, stateFile, port, output: () => output };
}

async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  describe: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out; last output:\n${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
