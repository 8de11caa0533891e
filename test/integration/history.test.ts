import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { GetObjectCommand, GetObjectTaggingCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { PurgeQueueCommand } from "@aws-sdk/client-sqs";
import { beforeAll, describe, expect, inject, it } from "vitest";
import type { Alert } from "../../shared/catalog/alerts";
import { openCatalog } from "../../shared/catalog/dynamo/open";
import type { CatalogComponent, DumpSetEntry } from "../../shared/catalog/entry";
import { SHA256_TAG } from "../../shared/dumpset/object-tags";
import { fullObjectChecksum } from "../../shared/dumpset/s3-checksum";
import { sha256 } from "../support/dumpsets";
import { binary, postgresAt } from "../support/postgres";
import { writeSeedBackup } from "../support/seed-backup";
import { startTestStack, type TestStack } from "../support/stack";
import { run } from "../support/tools";

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack("history");
});

/** Pushes a seed-style backup through the CLI and returns its committed catalog entry. */
async function pushSeedSet(source: string): Promise<DumpSetEntry> {
  const { directory } = await writeSeedBackup(postgresAt(inject("postgresPort")), { rows: 200 });
  const pushed = await stack.cli(["push", directory, "--source", source, "--json"]);
  expect(pushed.code, pushed.stderr).toBe(0);
  await stack.pump.drain();
  const entry = (await stack.catalog.getBackup(JSON.parse(pushed.stdout).setId)) as DumpSetEntry;
  expect(entry.status).toBe("COMPLETE");
  return entry;
}

const componentOf = (entry: DumpSetEntry, name: string) =>
  entry.components.find((component) => component.name === name) as CatalogComponent;

async function currentBytes(key: string, versionId?: string): Promise<Buffer> {
  const object = await stack.s3.send(
    new GetObjectCommand({ Bucket: stack.deployment.bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }),
  );
  return Buffer.from((await object.Body?.transformToByteArray()) ?? []);
}

/** A host (or anyone with write access) writes other bytes over a committed component, with a tag of its choice. */
async function overwrite(component: CatalogComponent, tagSha: string): Promise<string> {
  const garbage = randomBytes(component.size);
  const written = await stack.s3.send(
    new PutObjectCommand({
      Bucket: stack.deployment.bucket,
      Key: component.key,
      Body: garbage,
      Tagging: `${SHA256_TAG}=${tagSha === "honest" ? sha256(garbage) : tagSha}`,
    }),
  );
  return written.VersionId as string;
}

async function alertsNaming(key: string): Promise<Alert[]> {
  const alerts = await openCatalog(stack.dynamo, stack.deployment.table).alerts.recent(1000);
  return alerts.filter((alert) => alert.kind === "history-replaced" && alert.details.key === key);
}

describe("history that cannot be silently replaced", () => {
  it("records each component's S3 checksum and pins the version it was committed with", async () => {
    const entry = await pushSeedSet("pinned");
    for (const component of entry.components) {
      expect(component.versionId, component.name).toMatch(/.+/);
      expect(component.checksum?.algorithm).toBe("SHA256");
    }
    // A file pushed in one PUT: S3's checksum is its full SHA-256.
    expect(componentOf(entry, "master-key-id.txt").checksum).toEqual(
      fullObjectChecksum(componentOf(entry, "master-key-id.txt").sha256),
    );
  });

  it.each([
    ["a lying tag (the original SHA-256)", "lying"],
    ["an honest tag", "honest"],
  ])(
    "puts a committed component overwritten with %s back within one reconcile cycle, and raises one alert",
    async (_, tag) => {
      const entry = await pushSeedSet(`overwritten-${tag}`);
      const dump = componentOf(entry, "main.dump");
      const damage = await overwrite(dump, tag === "lying" ? dump.sha256 : "honest");

      await stack.pump.drain();
      await stack.runScheduled("reconciler");

      const after = (await stack.catalog.getBackup(entry.id)) as DumpSetEntry;
      expect(after.status).toBe("COMPLETE");
      expect(componentOf(after, "main.dump")).toMatchObject({
        versionId: dump.versionId,
        sha256: dump.sha256,
        checksum: dump.checksum,
      });
      expect(componentOf(after, "main.dump").healedVersionId).not.toBe(damage);
      expect(sha256(await currentBytes(dump.key))).toBe(dump.sha256);

      const alerts = await alertsNaming(dump.key);
      expect(alerts).toHaveLength(1);
      expect(alerts[0]?.message).toContain(`version ${damage}`);
      expect(alerts[0]?.message).toContain("the committed version was made current again");

      // The damaging version may expire after the grace period; the pinned one never carries the tag.
      const tagsOf = async (versionId: string) =>
        (
          await stack.s3.send(
            new GetObjectTaggingCommand({ Bucket: stack.deployment.bucket, Key: dump.key, VersionId: versionId }),
          )
        ).TagSet ?? [];
      expect(await tagsOf(damage)).toEqual([{ Key: "restorable-release", Value: "expire" }]);
      expect(await tagsOf(dump.versionId as string)).toEqual([]);

      // Another reconcile and a duplicate of the damage event change nothing and alert no more.
      await stack.runScheduled("reconciler");
      expect(await alertsNaming(dump.key)).toHaveLength(1);
    },
  );

  it("finds a replaced component no event reported, on the next reconcile", async () => {
    const entry = await pushSeedSet("no-event");
    const config = componentOf(entry, "codebolt-server.yaml");
    await overwrite(config, "honest");
    await stack.sqs.send(new PurgeQueueCommand({ QueueUrl: stack.deployment.queueUrl }));
    await stack.runScheduled("reconciler");
    expect(sha256(await currentBytes(config.key))).toBe(config.sha256);
    expect(await alertsNaming(config.key)).toHaveLength(1);
  });

  it("gives back exactly the committed bytes from the pinned versions, which pg_restore reads", async () => {
    const entry = await pushSeedSet("restorable");
    const dump = componentOf(entry, "main.dump");
    await overwrite(dump, dump.sha256);
    await stack.pump.drain();
    const bytes = await currentBytes(dump.key, dump.versionId as string);
    expect(sha256(bytes)).toBe(dump.sha256);
    const file = path.join(tmpdir(), `restorable-pinned-${entry.id}.dump`);
    await writeFile(file, bytes);
    const listed = await run(binary("pg_restore"), ["--list", file]);
    expect(listed.stdout).toContain("persistent_memory");
  });
});
