import type { ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { type CatalogComponent, type DumpSetEntry, ResticSnapshotEntrySchema } from "../../shared/catalog/entry";
import { componentKey } from "../../shared/contracts/layout";
import { fullObjectChecksum } from "../../shared/dumpset/s3-checksum";
import { SetWriter, sha256 } from "../support/dumpsets";
import { postgresAt } from "../support/postgres";
import { writeSeedBackup } from "../support/seed-backup";
import { startTestStack, type TestStack } from "../support/stack";
import { run } from "../support/tools";

let stack: TestStack;
const postgres = () => postgresAt(inject("postgresPort"));
const scratch = (label: string) => mkdtemp(path.join(tmpdir(), `restorable-${label}-`));
const MARKER = ".restorable-restore.json";
const isPartial = (name: string) => name.startsWith(".restorable-partial-");

beforeAll(async () => {
  stack = await startTestStack("restore");
});

async function pushSeed(source: string, extra?: (directory: string) => Promise<void>) {
  const { directory } = await writeSeedBackup(postgres(), { rows: 200 });
  await extra?.(directory);
  const pushed = await stack.cli(["push", directory, "--source", source, "--json"]);
  expect(pushed.code, pushed.stderr).toBe(0);
  await stack.pump.drain();
  const entry = (await stack.catalog.getBackup(JSON.parse(pushed.stdout).setId)) as DumpSetEntry;
  expect(entry.status).toBe("COMPLETE");
  return { directory, entry };
}

const componentOf = (entry: DumpSetEntry, name: string) =>
  entry.components.find((component) => component.name === name) as CatalogComponent;

describe("restore reads what was committed", () => {
  it("reads the pinned version: a component overwritten, and not yet put back, restores as committed", async () => {
    const { directory, entry } = await pushSeed("overwritten");
    const dump = componentOf(entry, "main.dump");
    // A host writes other bytes over the key: a new current version. Healing (the indexer's event, the
    // reconciler) has not run, so the key's current version is the wrong one; restore must not read it.
    await stack.s3.send(
      new PutObjectCommand({ Bucket: stack.deployment.bucket, Key: dump.key, Body: randomBytes(dump.size) }),
    );
    const to = await scratch("pinned");
    const restored = await stack.cli(["restore", entry.id, "--to", to, "--only", "main.dump", "--json"]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(JSON.parse(restored.stdout).components[0]).toMatchObject({ name: "main.dump", versionId: dump.versionId });
    await run("cmp", [path.join(directory, "main.dump"), path.join(to, "main.dump")]);
  });

  it("stops with exit 1 naming a component whose pinned bytes are not the committed ones, leaving no partial file", async () => {
    // How pinned bytes come to differ from their record, honestly: the stored version's bytes are not what S3's
    // checksum and the manifest say (damage at rest, or an S3 that did not check the checksum it was sent). The
    // emulator stores a checksum the client sends without checking it, so the object is written with the
    // checksum of the bytes the manifest records but other bytes of the same size. The indexer compares size
    // and S3's checksum, finds them as recorded, and commits the set COMPLETE with that version pinned: only
    // reading the bytes tells. Healing has nothing to put back (the pinned version is the only one).
    const files = {
      "a.txt": "first component\n",
      "main.dump": "PGDMP the committed dump".repeat(5000),
      "z.txt": "last\n",
    };
    const set = new SetWriter(stack.s3, stack.deployment.bucket, "damaged", files);
    await set.putComponent("a.txt");
    await set.putComponent("z.txt");
    const committed = files["main.dump"];
    const damaged = Buffer.from(committed);
    damaged.writeUInt8(damaged.readUInt8(damaged.length - 100) ^ 0xff, damaged.length - 100);
    await stack.s3.send(
      new PutObjectCommand({
        Bucket: stack.deployment.bucket,
        Key: componentKey(set.source, set.setId, "main.dump"),
        Body: damaged,
        ChecksumAlgorithm: "SHA256",
        ChecksumSHA256: fullObjectChecksum(sha256(committed)).value,
      }),
    );
    await set.putManifest();
    await stack.pump.drain();
    const entry = (await stack.catalog.getBackup(set.setId)) as DumpSetEntry;
    expect(entry.status).toBe("COMPLETE");

    const to = await scratch("damaged");
    const restored = await stack.cli(["restore", set.setId, "--to", to]);
    expect(restored.code).toBe(1);
    expect(restored.stderr).toMatch(/^restorable: main\.dump: /);
    expect(restored.stdout).toBe("");
    const left = await readdir(to);
    expect(left.filter(isPartial)).toEqual([]);
    expect(left).not.toContain("main.dump");
    // What verified before it stays; the marker says the restore did not finish.
    expect(left.sort()).toEqual([MARKER, "a.txt"]);

    // The same target takes the same restore again without --force (here, of what is intact).
    const rest = await stack.cli(["restore", set.setId, "--to", to, "--only", "a.txt", "--only", "z.txt"]);
    expect(rest.code, rest.stderr).toBe(0);
    expect((await readdir(to)).sort()).toEqual(["a.txt", "z.txt"]);
  });

  it("restores only COMPLETE sets", async () => {
    const set = new SetWriter(stack.s3, stack.deployment.bucket, "incomplete", { "a.txt": "a", "b.txt": "b" });
    await set.putComponent("a.txt");
    await set.putManifest();
    await stack.pump.drain();
    const restored = await stack.cli(["restore", set.setId, "--to", await scratch("incomplete")]);
    expect(restored.code).toBe(1);
    expect(restored.stderr).toContain(`${set.setId} is INCOMPLETE (component b.txt is missing): only COMPLETE sets`);
  });
});

describe("the target directory", () => {
  it("is refused when it holds anything (exit 2) unless --force, which replaces only the set's names", async () => {
    const { directory, entry } = await pushSeed("forced");
    const to = await scratch("forced");
    await writeFile(path.join(to, "notes.txt"), "mine\n");
    await writeFile(path.join(to, "main.dump"), "an old dump\n");
    await mkdir(path.join(to, "kg"));
    await writeFile(path.join(to, "kg", "stale.json"), "{}");

    const refused = await stack.cli(["restore", entry.id, "--to", to]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${to} is not empty (kg, main.dump, notes.txt): restore into a new or empty`);

    const forced = await stack.cli(["restore", entry.id, "--to", to, "--force"]);
    expect(forced.code, forced.stderr).toBe(0);
    await run("cmp", [path.join(directory, "main.dump"), path.join(to, "main.dump")]);
    expect(await readFile(path.join(to, "notes.txt"), "utf-8")).toBe("mine\n");
    expect(await readdir(path.join(to, "kg"))).toEqual(["graph.json"]);
  });

  it("a restore killed mid-way leaves nothing partial under a final name, and the same command restarts it", async () => {
    const { directory, entry } = await pushSeed("killed", async (dir) => {
      await writeFile(path.join(dir, "big.bin"), randomBytes(48 * 1024 * 1024));
    });
    const to = await scratch("killed");
    let child: ChildProcess | undefined;
    const killed = stack.cli(["restore", entry.id, "--to", to], { onSpawn: (c) => (child = c) });
    await waitFor(async () => (await readdir(to)).includes(".restorable-partial-big.bin"));
    child?.kill("SIGKILL");
    expect((await killed).signal).toBe("SIGKILL");
    const left = await readdir(to);
    expect(left).toContain(MARKER);
    expect(left).not.toContain("big.bin");

    const again = await stack.cli(["restore", entry.id, "--to", to]);
    expect(again.code, again.stderr).toBe(0);
    await run("diff", ["-r", directory, to]);
    expect((await readdir(to)).filter((name) => isPartial(name) || name === MARKER)).toEqual([]);
  });

  it("Ctrl-C stops it with exit 130, removing what was not verified", async () => {
    const { entry } = await pushSeed("interrupted", async (dir) => {
      await writeFile(path.join(dir, "big.bin"), randomBytes(48 * 1024 * 1024));
    });
    const to = await scratch("interrupted");
    let child: ChildProcess | undefined;
    const interrupted = stack.cli(["restore", entry.id, "--to", to], { onSpawn: (c) => (child = c) });
    await waitFor(async () => (await readdir(to)).includes(".restorable-partial-big.bin"));
    child?.kill("SIGINT");
    const result = await interrupted;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain("interrupted while restoring big.bin");
    expect((await readdir(to)).filter(isPartial)).toEqual([]);
    expect(existsSync(path.join(to, "big.bin"))).toBe(false);
  });
});

describe("what restore refuses or hands over", () => {
  it("an --only that names nothing in the set (exit 2)", async () => {
    const { entry } = await pushSeed("only-unknown");
    const result = await stack.cli(["restore", entry.id, "--to", await scratch("only"), "--only", "nope.dump"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${entry.id} has no component nope.dump; it holds SHA256SUMS, capabilities.tar.gz`);
  });

  it("--pg-restore of something that is not a dump (exit 2)", async () => {
    const { entry } = await pushSeed("pg-not-dump");
    const result = await stack.cli(["restore", entry.id, "--only", "kg", "--pg-restore", "postgresql:///x"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("kg.tar.gz is a directory-archive, not a pg_dump archive");
  });

  it("a restic snapshot: the exact restic command, with the repository's URL", async () => {
    const id = createHash("sha256").update(randomBytes(8)).digest("hex");
    const snapshot = ResticSnapshotEntrySchema.parse({
      kind: "restic",
      id,
      source: "workspaces host [ws1] tags []",
      createdAt: "2026-12-03T02:00:00.000Z",
      status: "COMPLETE",
      statusReason: null,
      statusChangedAt: "2026-12-03T02:00:00.000Z",
      hostname: "ws1",
      tags: [],
      sizeBytes: null,
      indexedAt: "2026-12-03T02:00:00.000Z",
      repository: "workspaces",
      snapshotKey: `restic/workspaces/snapshots/${id}`,
      resticTime: null,
      username: null,
      paths: ["/home/coder"],
      tree: null,
      parent: null,
      programVersion: null,
      summary: null,
      forgottenAt: null,
      original: null,
      rewrittenAs: null,
    });
    await stack.catalog.recordBackup(snapshot, null);
    const url = `s3:${stack.deployment.endpoint}/${stack.deployment.bucket}/restic/workspaces`;

    const shown = await stack.cli(["restore", id, "--to", "/srv/restore"]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`  restic -r ${url} restore ${id} --target /srv/restore\n`);
    expect(shown.stdout).toContain(`restorable/${stack.deployment.bucket}/restic/workspaces`);

    const json = await stack.cli(["restore", id, "--to", "/srv/restore", "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      kind: "restic",
      repositoryUrl: url,
      command: ["restic", "-r", url, "restore", id, "--target", "/srv/restore"],
    });
  });
});

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
