import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import { beforeAll, describe, expect, it } from "vitest";
import { localClients } from "../../cli/local/clients";
import { startLocalHandlers } from "../../cli/local/handlers";
import { openCatalog } from "../../shared/catalog/dynamo/open";
import { enqueueNotifications } from "../../shared/ingest/enqueue";
import { reconcileDumpSets } from "../../shared/ingest/reconcile-dumpsets";
import { silentLog } from "../../shared/log";
import { SetWriter } from "../support/dumpsets";
import { REGION, startTestStack, type TestStack } from "../support/stack";

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack("recovery");
});

async function pushDirectory(source: string): Promise<string> {
  const directory = path.join(await mkdtemp(path.join(tmpdir(), "restorable-recovery-")), "20250301_020000");
  await mkdir(directory);
  await writeFile(path.join(directory, "main.dump"), randomBytes(4096));
  await writeFile(path.join(directory, "codebolt-server.yaml"), "port: 8080\n");
  const pushed = await stack.cli(["push", directory, "--source", source, "--json"]);
  expect(pushed.code, pushed.stderr).toBe(0);
  return JSON.parse(pushed.stdout).setId as string;
}

/** Takes every event waiting on the ingest queue away unhandled, as a lost notification would. */
async function loseQueuedEvents(): Promise<void> {
  for (;;) {
    const { Messages = [] } = await stack.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: stack.deployment.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return;
    await stack.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: stack.deployment.queueUrl,
        Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
      }),
    );
  }
}

/**
 * Loses every queued event but the set's commit request. A component's event handled after the commit
 * would find the committed manifest and index the set itself, so the test must not depend on their order.
 */
async function keepOnlyTheCommitRequest(source: string, setId: string): Promise<void> {
  // S3 event notifications carry the key URL-encoded.
  const commitRequest = encodeURIComponent(`incoming/${source}/${setId}/restorable.manifest.json`);
  const received: Message[] = [];
  for (let emptyReceives = 0; emptyReceives < 3; ) {
    const { Messages = [] } = await stack.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: stack.deployment.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) emptyReceives++;
    received.push(...Messages);
  }
  expect(received.filter((message) => message.Body?.includes(commitRequest))).toHaveLength(1);
  const QueueUrl = stack.deployment.queueUrl;
  for (const { Body, ReceiptHandle } of received) {
    if (Body?.includes(commitRequest)) {
      await stack.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle, VisibilityTimeout: 0 }));
    } else {
      await stack.sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle }));
    }
  }
}

/** Lets the indexer handle what is queued now, but not what that causes (the committed manifest's event). */
async function handleOnlyWhatIsQueued(source: string, setId: string): Promise<void> {
  const manifest = `sets/${source}/${setId}/restorable.manifest.json`;
  for (let attempt = 0; attempt < 20; attempt++) {
    await stack.pump.pumpOnce(0);
    const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: stack.deployment.bucket, Prefix: manifest }));
    if ((listed.KeyCount ?? 0) > 0) return;
  }
  throw new Error("the commit request was never handled");
}

describe("no backup lost to a missed event", () => {
  it("indexes a committed set whose manifest event was lost, on the next reconcile", async () => {
    const setId = await pushDirectory("lost-manifest-event");
    // The commit: the service writes the manifest, whose event is then lost.
    await keepOnlyTheCommitRequest("lost-manifest-event", setId);
    await handleOnlyWhatIsQueued("lost-manifest-event", setId);
    await loseQueuedEvents();
    expect(await stack.catalog.getBackup(setId)).toBeUndefined();
    await stack.runScheduled("reconciler");
    expect((await stack.catalog.getBackup(setId))?.status).toBe("COMPLETE");
  });

  it("commits a set whose commit request's event was lost, once the request is a minute old", async () => {
    const setId = await pushDirectory("lost-commit-event");
    await loseQueuedEvents();
    const reconcile = (minutesLater: number) =>
      reconcileDumpSets({
        s3: stack.s3,
        bucket: stack.deployment.bucket,
        catalog: stack.catalog,
        enqueue: (events) =>
          enqueueNotifications(stack.sqs, stack.deployment.queueUrl as string, stack.deployment.bucket, events, "test"),
        log: silentLog,
        now: () => new Date(Date.now() + minutesLater * 60_000),
      });
    expect((await reconcile(0)).uncommitted).toEqual([]);
    expect((await reconcile(2)).uncommitted).toEqual([`incoming/lost-commit-event/${setId}/restorable.manifest.json`]);
    await stack.pump.drain();
    expect((await stack.catalog.getBackup(setId))?.status).toBe("COMPLETE");
  });

  it("lists a message the indexer gave up on with its reason, alerts, and indexes it after redrive", async () => {
    const setId = await pushDirectory("dead-lettered");
    // S3 unreachable for the indexer: every attempt fails until SQS moves the message aside.
    const clients = localClients({ endpoint: stack.deployment.endpoint, region: REGION });
    const broken = new S3Client({
      endpoint: "http://127.0.0.1:9",
      region: REGION,
      maxAttempts: 1,
      credentials: { accessKeyId: "x", secretAccessKey: "x" },
    });
    const failing = startLocalHandlers({
      deployment: stack.deployment,
      region: REGION,
      clients: { ...clients, s3: broken },
      log: silentLog,
      run: false,
      retryAfterSeconds: 0,
    });
    await failing.pump.drain();

    const listed = await stack.cli(["ingest", "dlq", "--json"]);
    expect(listed.code, listed.stderr).toBe(0);
    const letters: { keys: string[]; reason: string }[] = JSON.parse(listed.stdout).deadLetters;
    // The commit request, and the two components' events (they look for the set's manifest).
    expect(letters.flatMap((letter) => letter.keys)).toContain(
      `incoming/dead-lettered/${setId}/restorable.manifest.json`,
    );
    expect(letters).toHaveLength(3);
    for (const letter of letters) expect(letter.reason).toMatch(/^indexing failed \(attempt \d\): /);

    await stack.runScheduled("reconciler");
    const alerts = await openCatalog(stack.dynamo, stack.deployment.table).alerts.recent(100);
    expect(alerts.filter((alert) => alert.kind === "ingest-dead-letters")).toHaveLength(1);

    const redriven = await stack.cli(["ingest", "redrive", "--json"]);
    expect(JSON.parse(redriven.stdout)).toEqual({ redriven: 3 });
    await stack.pump.drain();
    expect((await stack.catalog.getBackup(setId))?.status).toBe("COMPLETE");
    expect(JSON.parse((await stack.cli(["ingest", "dlq", "--json"])).stdout).deadLetters).toEqual([]);
  });
});

describe("a hostile restic key file", () => {
  it("gives UNREADABLE with the reason, and the rest of the batch is indexed", async () => {
    const passwordFile = path.join(await mkdtemp(path.join(tmpdir(), "restorable-hostile-")), "password");
    await writeFile(passwordFile, "whatever\n");
    const added = await stack.cli(["restic", "add-repo", "hostile", "--password-file", passwordFile, "--no-check"]);
    expect(added.code, added.stderr).toBe(0);
    const put = (key: string, body: string | Buffer) =>
      stack.s3.send(new PutObjectCommand({ Bucket: stack.deployment.bucket, Key: key, Body: body }));
    // scrypt with N=2^20, r=8 wants 1 GiB: more than the indexer may spend.
    const key = JSON.stringify({
      created: "2025-01-02T03:04:05Z",
      username: "mallory",
      hostname: "ws",
      kdf: "scrypt",
      N: 2 ** 20,
      r: 8,
      p: 1,
      salt: randomBytes(64).toString("base64"),
      data: randomBytes(96).toString("base64"),
    });
    await put(`restic/hostile/keys/${sha(key)}`, key);
    const snapshot = randomBytes(200);
    await put(`restic/hostile/snapshots/${sha(snapshot)}`, snapshot);
    const neighbour = new SetWriter(stack.s3, stack.deployment.bucket, "beside-hostile", { "main.dump": "PGDMP ok" });
    await neighbour.putAllComponents();
    await neighbour.putManifest();
    await stack.pump.drain();

    const entry = await stack.catalog.getBackup(sha(snapshot));
    expect(entry?.status).toBe("UNREADABLE");
    expect(entry?.statusReason).toMatch(/asks scrypt for 10\d\d MiB \(N=1048576, r=8, p=1\), over the 256 MiB allowed/);
    expect((await stack.catalog.getBackup(neighbour.setId))?.status).toBe("COMPLETE");
  });
});

function sha(bytes: string | Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}
