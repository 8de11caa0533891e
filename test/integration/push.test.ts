import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { appendFile, mkdir } from "node:fs/promises";
import * as path from "node:path";
import { ListMultipartUploadsCommand, ListObjectsV2Command, ListPartsCommand } from "@aws-sdk/client-s3";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { postgresAt } from "../support/postgres";
import { writeSeedBackup } from "../support/seed-backup";
import { startTestStack, type TestStack } from "../support/stack";

let stack: TestStack;
const postgres = () => postgresAt(inject("postgresPort"));

beforeAll(async () => {
  stack = await startTestStack("push");
});

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: stack.deployment.bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((object) => object.Key as string);
}

describe("restorable push", () => {
  it("refuses a directory whose SHA256SUMS does not match, uploading and registering nothing", async () => {
    const { directory } = await writeSeedBackup(postgres(), { rows: 10 });
    await appendFile(path.join(directory, "main.dump"), "tampered");

    const result = await stack.cli(["push", directory, "--source", "tampered"]);
    await stack.pump.drain();

    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(
      /refusing to push: the directory does not match its SHA256SUMS \(main\.dump: SHA-256 is/,
    );
    expect(await keysUnder("sets/tampered/")).toEqual([]);
    expect(await stack.catalog.listBySource("tampered")).toEqual([]);
  });

  it("refuses a SHA256SUMS naming a file the directory does not have", async () => {
    const { directory } = await writeSeedBackup(postgres(), { rows: 10 });
    await appendFile(path.join(directory, "SHA256SUMS"), `${"0".repeat(64)}  /backups/elsewhere/kg.db\n`);

    const result = await stack.cli(["push", directory, "--source", "listed-missing"]);

    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("SHA256SUMS lists /backups/elsewhere/kg.db, but the directory has no file kg.db");
    expect(await keysUnder("sets/listed-missing/")).toEqual([]);
  });

  it("pushing the same directory twice makes one set", async () => {
    const { directory } = await writeSeedBackup(postgres(), { rows: 10 });
    const first = await stack.cli(["push", directory, "--source", "twice", "--json"]);
    const second = await stack.cli(["push", directory, "--source", "twice", "--json"]);
    await stack.pump.drain();

    expect(first.code, first.stderr).toBe(0);
    expect(second.code, second.stderr).toBe(0);
    const [a, b] = [JSON.parse(first.stdout), JSON.parse(second.stdout)];
    expect(a.outcome).toBe("pushed");
    expect(b).toMatchObject({ outcome: "already-pushed", setId: a.setId });
    const entries = await stack.catalog.listBySource("twice");
    expect(entries.map((e) => [e.id, e.status])).toEqual([[a.setId, "COMPLETE"]]);
  });

  it("a push killed mid-upload and run again ends with one COMPLETE set", async () => {
    const { directory } = await writeSeedBackup(postgres(), { rows: 10, stamp: "20250102_020000" });
    // A component big enough that the push is still uploading parts when it is killed.
    await writeRandomFile(path.join(directory, "vectordb", "big.bin"), 96 * 1024 * 1024);
    let child: ChildProcess | undefined;
    const killed = stack.cli(["push", directory, "--source", "killed", "--json"], { onSpawn: (c) => (child = c) });
    await waitForUploadedPart("sets/killed/");
    child?.kill("SIGKILL");
    const interrupted = await killed;
    expect(interrupted.signal).toBe("SIGKILL");
    await stack.pump.drain();
    expect(await stack.catalog.listBySource("killed")).toEqual([]);

    const rerun = await stack.cli(["push", directory, "--source", "killed", "--json"]);
    await stack.pump.drain();

    expect(rerun.code, rerun.stderr).toBe(0);
    const entries = await stack.catalog.listBySource("killed");
    expect(entries.map((e) => e.status)).toEqual(["COMPLETE"]);
    expect(entries[0]?.id).toBe(JSON.parse(rerun.stdout).setId);
  });

  it("prints a JSON summary and no progress bar when not on a terminal", async () => {
    const { directory } = await writeSeedBackup(postgres(), { rows: 10, stamp: "20250103_020000" });
    const result = await stack.cli(["push", directory, "--source", "quiet", "--tag", "env:test", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe("");
    const summary = JSON.parse(result.stdout);
    expect(summary.components.map((c: { name: string }) => c.name)).toEqual([
      "SHA256SUMS",
      "capabilities.tar.gz",
      "codebolt-server.yaml",
      "kg.tar.gz",
      "main.dump",
      "manifest.txt",
      "master-key-id.txt",
      "shadow-git.tar.gz",
      "vectordb.tar.gz",
    ]);
    expect(summary.createdAt).toBe("2025-01-01T02:00:00.000Z");
  });

  it("explains what to do when no deployment can be found", async () => {
    const result = await stack.cli(["catalog", "list"], {
      env: {
        RESTORABLE_BUCKET: "",
        RESTORABLE_TABLE: "",
        RESTORABLE_ENDPOINT: "",
        AWS_ENDPOINT_URL: stack.deployment.endpoint,
      },
      cwd: "/",
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("cannot tell which restorable deployment to use");
  });
});

describe("restorable backup postgres", () => {
  it("streams pg_dump into a one-component set that the catalog lists COMPLETE", async () => {
    const database = await postgres().createDatabase("live");
    await postgres().sql(database, "CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 500) g");

    const result = await stack.cli([
      "backup",
      "postgres",
      "--source",
      "pg-live",
      "--dbname",
      postgres().url(database),
      "--json",
    ]);
    await stack.pump.drain();

    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.components).toEqual([expect.objectContaining({ name: "main.dump", kind: "pg-dump" })]);
    expect(await stack.catalog.getBackup(summary.setId)).toMatchObject({ status: "COMPLETE", source: "pg-live" });
  });

  it("fails with pg_dump's message and registers nothing when pg_dump fails", async () => {
    const result = await stack.cli([
      "backup",
      "postgres",
      "--source",
      "pg-broken",
      "--dbname",
      postgres().url("no_such_database"),
    ]);
    await stack.pump.drain();

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/pg_dump failed \(exit 1\): .*no_such_database/);
    expect((await keysUnder("sets/pg-broken/")).filter((key) => key.endsWith("restorable.manifest.json"))).toEqual([]);
    expect(await stack.catalog.listBySource("pg-broken")).toEqual([]);
  });
});

async function waitForUploadedPart(prefix: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const uploads = await stack.s3.send(
      new ListMultipartUploadsCommand({ Bucket: stack.deployment.bucket, Prefix: prefix }),
    );
    for (const upload of uploads.Uploads ?? []) {
      const parts = await stack.s3.send(
        new ListPartsCommand({ Bucket: stack.deployment.bucket, Key: upload.Key, UploadId: upload.UploadId }),
      );
      if ((parts.Parts?.length ?? 0) > 0) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("no multipart upload started within 60 s");
}

async function writeRandomFile(file: string, size: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const out = createWriteStream(file);
  for (let written = 0; written < size; written += 1024 * 1024) {
    if (!out.write(randomBytes(1024 * 1024))) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));
}
