import { ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import { beforeAll, describe, expect, it } from "vitest";
import type { DumpSetEntry } from "../../shared/catalog/entry";
import { SetWriter } from "../support/dumpsets";
import { startTestStack, type TestStack } from "../support/stack";

let stack: TestStack;
let sourceCounter = 0;

beforeAll(async () => {
  stack = await startTestStack("ingest");
  await stack.pump.drain();
});

function newSet(
  files: Record<string, string> = { "main.dump": "PGDMP database", "config.yaml": "x: 1" },
  createdAt?: Date,
) {
  return new SetWriter(stack.s3, stack.deployment.bucket, `src${++sourceCounter}`, files, createdAt);
}

/** Takes the queued S3 notifications off the queue without handling them, to replay them by hand. */
async function takeQueuedEvents(): Promise<SQSRecord[]> {
  const records: SQSRecord[] = [];
  for (;;) {
    const received = await stack.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: stack.deployment.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!received.Messages?.length) return records;
    for (const message of received.Messages) {
      records.push({ messageId: message.MessageId, body: message.Body } as SQSRecord);
    }
  }
}

const invoke = (records: SQSRecord[]) => stack.indexer({ Records: records }, {} as never);

describe("indexing dump sets", () => {
  it("records a set whose components all arrived as COMPLETE, with their sizes and SHA-256", async () => {
    const set = newSet();
    await set.putAllComponents();
    await set.putManifest();
    await stack.pump.drain();

    const entry = await stack.catalog.getBackup(set.setId);
    expect(entry).toMatchObject({
      kind: "dumpset",
      status: "COMPLETE",
      statusReason: null,
      source: set.source,
      sizeBytes: set.components.reduce((sum, c) => sum + c.size, 0),
      components: set.components,
      createdAt: set.createdAt.toISOString(),
    });
  });

  it("records a manifest naming a missing component as INCOMPLETE, saying which", async () => {
    const set = newSet();
    await set.putComponent("main.dump");
    await set.putManifest();
    await stack.pump.drain();

    const entry = await stack.catalog.getBackup(set.setId);
    expect(entry?.status).toBe("INCOMPLETE");
    expect(entry?.statusReason).toBe("component config.yaml is missing");
  });

  it("records a malformed manifest as CORRUPT with the reason, and keeps the set's identity", async () => {
    const set = newSet();
    await set.putAllComponents();
    await set.putManifest("{ this is not json");
    const notJson = set;
    const other = newSet();
    await other.putManifest(JSON.stringify({ ...other.manifest(), components: "nope" }));
    await stack.pump.drain();

    expect(await stack.catalog.getBackup(notJson.setId)).toMatchObject({
      status: "CORRUPT",
      statusReason: "manifest is not valid JSON",
      source: notJson.source,
      createdAt: "2025-06-01T02:00:00Z",
    });
    const invalid = await stack.catalog.getBackup(other.setId);
    expect(invalid?.status).toBe("CORRUPT");
    expect(invalid?.statusReason).toMatch(/^invalid manifest: components: /);
  });

  it("records a component whose size or SHA-256 differs from the manifest as CORRUPT", async () => {
    const truncated = newSet();
    await truncated.putComponent("main.dump", "PGDMP data");
    await truncated.putComponent("config.yaml");
    await truncated.putManifest();
    const flipped = newSet();
    await flipped.putComponent("main.dump", "PGDMP databasf");
    await flipped.putComponent("config.yaml");
    await flipped.putManifest();
    await stack.pump.drain();

    expect((await stack.catalog.getBackup(truncated.setId))?.statusReason).toBe(
      "component main.dump is 10 bytes in S3, the manifest says 14",
    );
    const corrupt = await stack.catalog.getBackup(flipped.setId);
    expect(corrupt?.status).toBe("CORRUPT");
    // S3's own checksum of the bytes, not anything the host wrote, is compared with the manifest.
    expect(corrupt?.statusReason).toMatch(
      /^component main.dump: S3 checksums its bytes as SHA256 [A-Za-z0-9+/]{43}=, the manifest recorded SHA256 /,
    );
  });

  it("judges sets from uploaders before 0.2 by their SHA-256 tag, the only record they have", async () => {
    const honest = newSet();
    await honest.putLegacyComponent("main.dump");
    await honest.putLegacyComponent("config.yaml");
    await honest.putManifest(honest.legacyManifest());
    const lying = newSet();
    await lying.putLegacyComponent("main.dump", "PGDMP databasf");
    await lying.putLegacyComponent("config.yaml");
    await lying.putManifest(lying.legacyManifest());
    await stack.pump.drain();
    expect((await stack.catalog.getBackup(honest.setId))?.status).toBe("COMPLETE");
    expect((await stack.catalog.getBackup(lying.setId))?.statusReason).toMatch(
      /^component main.dump has SHA-256 [0-9a-f]{64}, the manifest says/,
    );
  });

  it("keeps one entry when the same event is delivered twice", async () => {
    const set = newSet();
    await set.putAllComponents();
    await set.putManifest();
    const events = await takeQueuedEvents();
    const manifestEvent = events.find((e) => e.body.includes("restorable.manifest.json"));
    expect(manifestEvent).toBeDefined();

    await invoke([manifestEvent as SQSRecord]);
    const first = await stack.catalog.getBackup(set.setId);
    const response = await invoke([manifestEvent as SQSRecord, manifestEvent as SQSRecord]);

    expect(response.batchItemFailures).toEqual([]);
    expect(await stack.catalog.listBySource(set.source)).toHaveLength(1);
    expect((await stack.catalog.getBackup(set.setId))?.status).toBe(first?.status);
    expect(first?.status).toBe("COMPLETE");
  });

  it("converges on COMPLETE when the manifest arrives, and its event is handled, before its components", async () => {
    const set = newSet();
    await set.putManifest();
    await stack.pump.drain();
    expect((await stack.catalog.getBackup(set.setId))?.status).toBe("INCOMPLETE");

    await set.putAllComponents();
    // Hand the component events over newest first, the manifest's event replayed last and late.
    const events = (await takeQueuedEvents()).reverse();
    await invoke(events);
    expect((await stack.catalog.getBackup(set.setId))?.status).toBe("COMPLETE");
  });

  it("does not let a late look at an incomplete set undo COMPLETE", async () => {
    const set = newSet();
    await set.putManifest();
    const manifestEvents = await takeQueuedEvents();
    await set.putAllComponents();
    await stack.pump.drain();
    expect((await stack.catalog.getBackup(set.setId))?.status).toBe("COMPLETE");

    // An evaluation that saw a component missing (it raced the upload) is kept out.
    const complete = (await stack.catalog.getBackup(set.setId)) as DumpSetEntry;
    const late = { ...complete, status: "INCOMPLETE" as const, statusReason: "component config.yaml is missing" };
    expect(await stack.catalog.recordBackup(late, complete.manifestVersion)).toBe("kept-existing");
    await invoke(manifestEvents);
    expect((await stack.catalog.getBackup(set.setId))?.status).toBe("COMPLETE");
  });

  it("fails only the message it cannot read, and indexes the rest of the batch", async () => {
    const set = newSet();
    await set.putAllComponents();
    await set.putManifest();
    const events = await takeQueuedEvents();
    const garbage = { messageId: "garbage-1", body: "not an S3 notification" } as SQSRecord;

    const response = await invoke([garbage, ...events]);

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "garbage-1" }]);
    expect((await stack.catalog.getBackup(set.setId))?.status).toBe("COMPLETE");
  });

  it("lets an unreadable message reach the dead-letter queue intact", async () => {
    await stack.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.deployment.queueUrl, MessageBody: '{"nonsense":true}' }),
    );
    for (let attempt = 0; attempt < 6; attempt++) await stack.pump.drain();
    const dead = await stack.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: stack.deployment.deadLetterQueueUrl, MaxNumberOfMessages: 10 }),
    );
    expect(dead.Messages?.map((m) => m.Body)).toContain('{"nonsense":true}');
  });
});

describe("catalog queries", () => {
  it("lists a source's backups newest first, backups by tag, and every source with its latest backup", async () => {
    const source = `timeline${++sourceCounter}`;
    const days = [3, 1, 2];
    const sets = days.map(
      (day) =>
        new SetWriter(
          stack.s3,
          stack.deployment.bucket,
          source,
          { "main.dump": `PGDMP day ${day}` },
          new Date(`2025-07-0${day}T02:00:00Z`),
        ),
    );
    for (const set of sets) {
      await set.putAllComponents();
      await set.putManifest(set.manifest({ tags: [`day:${set.createdAt.getUTCDate()}`, `team:${source}`] }));
    }
    await stack.pump.drain();

    const listed = await stack.catalog.listBySource(source);
    expect(listed.map((b) => b.createdAt)).toEqual([
      "2025-07-03T02:00:00.000Z",
      "2025-07-02T02:00:00.000Z",
      "2025-07-01T02:00:00.000Z",
    ]);
    expect((await stack.catalog.listBySource(source, { limit: 2 })).map((b) => b.createdAt)).toHaveLength(2);
    expect((await stack.catalog.listByTag("day:2")).map((b) => b.id)).toEqual([sets[2]?.setId]);
    expect(await stack.catalog.listByTag(`team:${source}`)).toHaveLength(3);

    const summary = (await stack.catalog.listSources()).find((s) => s.source === source);
    expect(summary).toMatchObject({
      kind: "dumpset",
      latest: { id: sets[0]?.setId, status: "COMPLETE" },
      latestComplete: { id: sets[0]?.setId },
    });
  });
});
