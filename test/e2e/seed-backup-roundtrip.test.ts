import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, readdir, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { beforeAll, describe, expect, inject, it } from "vitest";
import type { BackupEntry } from "../../shared/catalog/entry";
import { binary, postgresAt } from "../support/postgres";
import { writeSeedBackup } from "../support/seed-backup";
import { startTestStack, type TestStack } from "../support/stack";
import { run } from "../support/tools";

let stack: TestStack;
const postgres = () => postgresAt(inject("postgresPort"));

beforeAll(async () => {
  stack = await startTestStack("e2e");
});

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

describe("a real pg_dump backup set from a host into the catalog", () => {
  it("is pushed as the seed script wrote it, listed COMPLETE with the right sizes and SHA-256, and restores", async () => {
    const { directory } = await writeSeedBackup(postgres(), { rows: 2000 });

    const pushed = await stack.cli(["push", directory, "--source", "codebolt-prod", "--json"]);
    expect(pushed.code, pushed.stderr).toBe(0);
    await stack.pump.drain();

    const listed = await stack.cli(["catalog", "list", "--source", "codebolt-prod", "--json"]);
    expect(listed.code, listed.stderr).toBe(0);
    const [backup] = JSON.parse(listed.stdout).backups as BackupEntry[];
    expect(backup).toMatchObject({
      status: "COMPLETE",
      source: "codebolt-prod",
      hostname: "db-primary",
      createdAt: "2025-01-01T02:00:00.000Z",
    });
    if (backup?.kind !== "dumpset") throw new Error("expected a dump set");
    expect(backup.serverVersion).toBe("codebolt-server 1.4.2");
    expect(backup.masterKeyId).toBe("mk-2025-01");

    // Every file of the directory is a component with its exact size and SHA-256.
    const files = (await readdir(directory, { withFileTypes: true })).filter((entry) => entry.isFile());
    for (const file of files) {
      const local = path.join(directory, file.name);
      const component = backup.components.find((c) => c.name === file.name);
      expect(component, file.name).toMatchObject({ size: (await stat(local)).size, sha256: await sha256OfFile(local) });
    }
    expect(backup.components.find((c) => c.name === "main.dump")?.kind).toBe("pg-dump");
    expect(backup.components.filter((c) => c.kind === "directory-archive").map((c) => c.name)).toEqual([
      "capabilities.tar.gz",
      "kg.tar.gz",
      "shadow-git.tar.gz",
      "vectordb.tar.gz",
    ]);

    // The uploaded main.dump, downloaded again, is a valid archive that restores the rows.
    const mainDump = backup.components.find((c) => c.name === "main.dump");
    const downloaded = path.join(await mkdtemp(path.join(tmpdir(), "restorable-download-")), "main.dump");
    const object = await stack.s3.send(new GetObjectCommand({ Bucket: stack.deployment.bucket, Key: mainDump?.key }));
    await pipeline(object.Body as Readable, createWriteStream(downloaded));
    expect(await sha256OfFile(downloaded)).toBe(mainDump?.sha256);
    const { stdout: contents } = await run(binary("pg_restore"), ["--list", downloaded]);
    expect(contents).toContain("TABLE DATA codebolt persistent_memory");

    const restored = await postgres().createDatabase("restored");
    await run(binary("pg_restore"), ["-d", postgres().url(restored), downloaded]);
    expect((await postgres().sql(restored, "SELECT count(*) FROM codebolt.persistent_memory")).trim()).toBe("2000");

    const shown = await stack.cli(["catalog", "show", backup.id]);
    expect(shown.stdout).toContain("status          COMPLETE");
  });
});
