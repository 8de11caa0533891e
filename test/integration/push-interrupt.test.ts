import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ListMultipartUploadsCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, REGION, startTestStack, type TestStack } from "../support/stack";

let stack: TestStack;
const scratch: string[] = [];

beforeAll(async () => {
  stack = await startTestStack("interrupt");
});

afterAll(async () => {
  await Promise.all(scratch.map((directory) => rm(directory, { recursive: true, force: true })));
});

/** A backup directory named as the backup script names it, holding `main.dump` of `mebibytes` random bytes. */
async function backupDirectory(mebibytes: number, options: { checksums: boolean }): Promise<string> {
  const parent = await mkdtemp(path.join(tmpdir(), "restorable-interrupt-"));
  scratch.push(parent);
  const directory = path.join(parent, "20250301_020000");
  await mkdir(directory);
  const hash = createHash("sha256");
  const file = await open(path.join(directory, "main.dump"), "w");
  for (let written = 0; written < mebibytes; written++) {
    const chunk = randomBytes(1024 * 1024);
    hash.update(chunk);
    await file.write(chunk);
  }
  await file.close();
  await writeFile(path.join(directory, "master-key-id.txt"), "mk-1\n");
  if (options.checksums) await writeFile(path.join(directory, "SHA256SUMS"), `${hash.digest("hex")}  main.dump\n`);
  return directory;
}

async function openUploads(prefix: string): Promise<string[]> {
  const listed = await stack.s3.send(
    new ListMultipartUploadsCommand({ Bucket: stack.deployment.bucket, Prefix: prefix }),
  );
  return (listed.Uploads ?? []).map((upload) => upload.Key as string);
}

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: stack.deployment.bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((object) => object.Key as string);
}

describe("Ctrl-C during push", () => {
  it("aborts the open multipart upload, says what was left, exits 130; the same command then finishes the set", async () => {
    const directory = await backupDirectory(200, { checksums: true });
    let interrupted = false;
    const pushed = await stack.cli(["push", directory, "--source", "interrupted"], {
      onSpawn: (child) => {
        // Ctrl-C once the first part is on its way: a multipart upload is open.
        const poll = setInterval(async () => {
          if (interrupted || child.exitCode !== null) return clearInterval(poll);
          if ((await openUploads("sets/interrupted/")).length === 0) return;
          interrupted = true;
          clearInterval(poll);
          child.kill("SIGINT");
        }, 50);
      },
    });
    expect(interrupted, `the push finished before it could be interrupted: ${pushed.stdout}`).toBe(true);
    expect(pushed.code, pushed.stderr).toBe(130);
    expect(pushed.stderr).toMatch(
      /^restorable: interrupted: set \S+ was not committed \(\d of 3 components uploaded; not sent: main\.dump/m,
    );
    expect(pushed.stderr).toContain("Run the same command again to finish the set");
    expect(pushed.stdout).toBe("");
    expect(await openUploads("sets/interrupted/")).toEqual([]);
    expect(await keysUnder("incoming/interrupted/")).toEqual([]);

    const again = await stack.cli(["push", directory, "--source", "interrupted", "--json"]);
    expect(again.code, again.stderr).toBe(0);
    const { setId, outcome } = JSON.parse(again.stdout) as { setId: string; outcome: string };
    expect(outcome).toBe("pushed");
    await stack.pump.drain();
    expect(await stack.catalog.getBackup(setId)).toMatchObject({ status: "COMPLETE", source: "interrupted" });
  });
});

describe("Ctrl-C during push at a terminal", () => {
  it("puts the cursor and line wrap back as the progress bar found them", async () => {
    const directory = await backupDirectory(200, { checksums: true });
    // `script` gives the CLI a terminal; Ctrl-C typed into it signals the CLI as a user's would.
    const command = [process.execPath, CLI, "push", directory, "--source", "terminal"].map(shellQuote).join(" ");
    const child = spawn("script", ["-qefc", command, "/dev/null"], {
      env: {
        ...process.env,
        AWS_ENDPOINT_URL: undefined,
        RESTORABLE_BUCKET: stack.deployment.bucket,
        RESTORABLE_TABLE: stack.deployment.table,
        RESTORABLE_REGION: REGION,
        RESTORABLE_ENDPOINT: stack.deployment.endpoint,
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.setEncoding("utf-8").on("data", (text: string) => (output += text));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    for (const deadline = Date.now() + 60_000; (await openUploads("sets/terminal/")).length === 0; ) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no upload started:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.stdin.write("\u0003");
    expect(await exited, output).toBe(130);
    const hidden = output.indexOf("\u001b[?25l");
    expect(hidden, "the bar hid the cursor").toBeGreaterThanOrEqual(0);
    expect(output.indexOf("\u001b[?25h", hidden), "and showed it again").toBeGreaterThan(hidden);
    expect(output.indexOf("\u001b[?7h", hidden), "and turned line wrap back on").toBeGreaterThan(hidden);
    expect(output).toContain("Run the same command again to finish the set");
    expect(await openUploads("sets/terminal/")).toEqual([]);
  });
});

describe("a directory without SHA256SUMS", () => {
  it("is pushed with a warning on stderr", async () => {
    const directory = await backupDirectory(1, { checksums: false });
    const pushed = await stack.cli(["push", directory, "--source", "unsummed"]);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stderr).toMatch(/^restorable: warning: \S+ has no SHA256SUMS: /m);
    expect(pushed.stderr).toContain("--require-checksums");
    expect(pushed.stdout).toMatch(/^Pushed set /);
  });

  it("is refused with --require-checksums, and nothing is uploaded or registered", async () => {
    const directory = await backupDirectory(1, { checksums: false });
    const refused = await stack.cli(["push", directory, "--source", "required", "--require-checksums"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^restorable: refusing to push: \S+ has no SHA256SUMS \(--require-checksums\)$/m);
    expect(await keysUnder("sets/required/")).toEqual([]);
    expect(await keysUnder("incoming/required/")).toEqual([]);
    await stack.pump.drain();
    expect(await stack.catalog.listBySource("required")).toEqual([]);
  });
});

describe("pushing a pushed directory again with --tag", () => {
  it("says the set was already pushed and that the tags given now were not added, with the command that adds them", async () => {
    const directory = await backupDirectory(1, { checksums: true });
    expect((await stack.cli(["push", directory, "--source", "retagged"])).code).toBe(0);
    const again = await stack.cli(["push", directory, "--source", "retagged", "--tag", "env:prod"]);
    expect(again.code, again.stderr).toBe(0);
    const setId = /set (\S+) of source retagged/.exec(again.stdout)?.[1];
    expect(again.stdout).toMatch(/^Already pushed, nothing uploaded: set /);
    expect(again.stdout).toContain("The tags given now (env:prod) were not added");
    expect(again.stdout).toContain(`restorable catalog tag ${setId} --add env:prod`);
    const json = await stack.cli(["push", directory, "--source", "retagged", "--tag", "env:prod", "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ outcome: "already-pushed", tagsNotAdded: ["env:prod"] });
  });
});

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}
