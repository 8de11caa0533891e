import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { CreateSecretCommand } from "@aws-sdk/client-secrets-manager";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import type { Context, SQSRecord } from "aws-lambda";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createNotifier, type NotifierOptions, type NotifierResult } from "../../functions/notifier";
import type { Alert, NewAlert } from "../../shared/catalog/alerts";
import { type Catalog, openCatalog } from "../../shared/catalog/dynamo/open";
import { finishDrill } from "../../shared/drills/finish";
import { drillKeys } from "../../shared/drills/layout";
import { type AgentReport, type DrillRecord, NO_PHASES } from "../../shared/drills/record";
import { ChatSender } from "../../shared/notify/chat-sender";
import { ConsoleSender } from "../../shared/notify/console-sender";
import { alertMessage } from "../../shared/notify/messages";
import { SendError, type SlackMessage } from "../../shared/notify/ports";
import { SetWriter } from "../support/dumpsets";
import { expectValidPayload, FakeSlack, secretsIn } from "../support/slack";
import { startTestStack, type TestStack, uniqueName } from "../support/stack";

let stack: TestStack;
let catalog: Catalog;
const slack = new FakeSlack();
let slackSecret: string;
/** Everything the notifier logged, to scan for secrets. */
const logged: string[] = [];
/** The injected clock: claims and sent times are judged by it. */
let clock = Date.parse("2025-06-02T05:00:00.000Z");
const now = () => new Date(clock);

const PRESIGNED =
  "https://restorable-backups.s3.us-east-1.amazonaws.com/sets/x/main.dump?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20250601%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=leak-canary-sig";

beforeAll(async () => {
  stack = await startTestStack("notifier");
  catalog = openCatalog(stack.dynamo, stack.deployment.table);
  await slack.start();
  slackSecret = `restorable/${stack.deployment.bucket}/slack`;
  await stack.handlers.clients.secrets.send(new CreateSecretCommand({ Name: slackSecret, SecretString: slack.url }));
});

afterAll(async () => {
  await slack.close();
  await stack?.handlers.stop();
});

/** The notifier Lambda as AWS runs it, its logs captured; quick backoff unless a test says otherwise. */
function notifier(options: NotifierOptions = {}, secret = slackSecret) {
  const logger = new Logger({ serviceName: "restorable-notifier", logLevel: "DEBUG" });
  for (const level of ["debug", "info", "warn", "error"] as const) {
    vi.spyOn(logger, level).mockImplementation((...args: unknown[]) => {
      logged.push(JSON.stringify(args));
    });
  }
  const handler = createNotifier(
    { catalogTable: stack.deployment.table, slackSecret: secret },
    stack.handlers.clients,
    { logger, metrics: new Metrics({ namespace: "Restorable", serviceName: "notifier" }) },
    { now, retry: { baseDelayMs: 100, maxDelayMs: 400 }, ...options },
  );
  return (): Promise<NotifierResult> => handler({}, { getRemainingTimeInMillis: () => 120_000 } as Context);
}

const raise = (alert: NewAlert) => catalog.alerts.raise(alert, now());

/** Sends whatever earlier tests left, then forgets what the endpoint received. */
async function flush(): Promise<void> {
  const run = notifier();
  while ((await catalog.alerts.pending()).length > 0) await run();
  slack.reset();
}

/** Every payload the endpoint received: Block Kit within the limits, and no secret in it. */
function checkedPayloads(): SlackMessage[] {
  return slack.requests.map((request) => expectValidPayload(request.body, [slack.url]));
}

beforeEach(async () => {
  clock += 3600_000;
  await flush();
});

afterAll(() => {
  expect(secretsIn(logged.join("\n"), [slack.url]), "secrets in the notifier's logs").toEqual([]);
});

describe("the notifier and Slack's webhook", () => {
  it("honours a 429's Retry-After: 2, and the message arrives once", async () => {
    const alert = await raise({ kind: "test", subject: "slack", message: "Slack is connected", details: {} });
    slack.respond({ status: 429, headers: { "retry-after": "2" }, body: "rate_limited" });

    const result = await notifier()();

    expect(result).toMatchObject({ sender: "slack-webhook", sent: 1, messages: 1, failure: null });
    expect(slack.requests.map((r) => r.status)).toEqual([429, 200]);
    const [first, second] = slack.requests;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(1900);
    expect(slack.accepted()).toHaveLength(1);
    checkedPayloads();
    expect((await catalog.alerts.recent(5)).find((a) => a.id === alert.id)).toMatchObject({
      sentAt: now().toISOString(),
      pending: false,
    });
    expect(await notifier()()).toMatchObject({ pending: 0, sent: 0 });
    expect(slack.accepted()).toHaveLength(1);
  });

  it("retries a 500 and delivers once", async () => {
    await raise({ kind: "bucket-drift", subject: "b", message: "bucket settings drifted: versioning", details: {} });
    slack.respond({ status: 500 });

    expect(await notifier()()).toMatchObject({ sent: 1, messages: 1 });
    expect(slack.requests.map((r) => r.status)).toEqual([500, 200]);
    checkedPayloads();
    await notifier()();
    expect(slack.accepted()).toHaveLength(1);
  });

  it("gives up on another 4xx and leaves the alert pending, logged", async () => {
    await raise({ kind: "test", subject: "slack", message: "refused", details: {} });
    slack.respond({ status: 404, body: "no_service" });
    const result = await notifier()();
    expect(result).toMatchObject({ sent: 0, pending: 1 });
    expect(result.failure).toContain("HTTP 404");
    expect(slack.requests).toHaveLength(1);
    expect(await catalog.alerts.pending()).toHaveLength(1);
    expect(logged.join("\n")).toContain("no_service");
  });

  it("loses nothing while Slack is down, and sends each alert once when it is back", async () => {
    await slack.close();
    const first = await Promise.all([1, 2].map((n) => raise(outage(n))));
    const down = await notifier({ retry: { attempts: 2, baseDelayMs: 50 } })();
    expect(down).toMatchObject({ pending: 2, sent: 0 });
    expect(down.failure).toContain("no response");
    clock += 60_000;
    const more = await Promise.all([3, 4, 5].map((n) => raise(outage(n))));
    expect(await notifier({ retry: { attempts: 2, baseDelayMs: 50 } })()).toMatchObject({ pending: 5, sent: 0 });

    await slack.reopen();
    clock += 60_000;
    expect(await notifier()()).toMatchObject({ pending: 5, sent: 5, messages: 1 });
    await notifier()();
    checkedPayloads();
    for (const alert of [...first, ...more]) expect(messagesNaming(alert), alert.message).toBe(1);
    expect(slack.accepted()).toHaveLength(1);
  });

  it("sends 50 alerts pending in one run as one digest", async () => {
    const sources = Array.from({ length: 50 }, (_, i) => `workspace-${String(i).padStart(2, "0")}`);
    for (const source of sources) {
      await raise({
        kind: "source-stale",
        subject: `${source} is STALE`,
        message: `${source} is past due and past its grace`,
        details: {
          source,
          state: "STALE",
          lastBackupAt: "2025-06-01T02:00:00Z",
          ageSeconds: 27 * 3600,
          expectation: "every 24h + 2h grace",
          lastProvenRestorable: null,
        },
      });
    }
    expect(await notifier()()).toMatchObject({ pending: 50, sent: 50, messages: 1 });
    const [digest] = checkedPayloads();
    expect(slack.requests).toHaveLength(1);
    expect(digest?.text).toMatch(/^50 restorable alerts/);
    for (const source of sources) expect(JSON.stringify(digest).split(`\`${source}\``).length - 1).toBe(1);
    expect(await catalog.alerts.pending()).toEqual([]);
  });

  it("never sends an alert twice from two concurrent runs", async () => {
    const raised = await Promise.all(Array.from({ length: 10 }, (_, i) => raise(outage(100 + i))));
    const results = await Promise.all([notifier()(), notifier()()]);
    expect(results.reduce((sum, result) => sum + result.sent, 0)).toBe(10);
    checkedPayloads();
    for (const alert of raised) expect(messagesNaming(alert), alert.message).toBe(1);
  });
});

/** How many messages Slack accepted that carry the alert's message. */
function messagesNaming(alert: Alert): number {
  return slack.accepted().filter((message) => JSON.stringify(message).includes(alert.message)).length;
}

/** An alert whose message carries a token (its subject) found once in whatever message sends it. */
function outage(n: number): NewAlert {
  return { kind: "retention-failed", subject: "outage-source", message: `throttled [incident-${n}]`, details: {} };
}

describe("what the system raises", () => {
  it("sends one message each, with the reason, for a failed drill, a CORRUPT set and a replaced component", async () => {
    // A CORRUPT set: a component whose bytes are not the manifest's.
    const corrupt = new SetWriter(stack.s3, stack.deployment.bucket, uniqueName("corrupt"), {
      "main.dump": "PGDMP database",
    });
    await corrupt.putComponent("main.dump", "PGDMP databasf");
    await corrupt.putManifest();
    // Its events delivered twice raise one alert.
    const events = await takeQueuedEvents();
    for (let time = 0; time < 2; time++) await stack.indexer({ Records: events }, {} as never);
    expect((await stack.catalog.getBackup(corrupt.setId))?.status).toBe("CORRUPT");
    // A committed set, then one of its components written over.
    const committed = new SetWriter(stack.s3, stack.deployment.bucket, uniqueName("replaced"), {
      "main.dump": "PGDMP database",
      "config.yaml": "x: 1",
    });
    await committed.putAllComponents();
    await committed.putManifest();
    await stack.pump.drain();
    expect((await stack.catalog.getBackup(committed.setId))?.status).toBe("COMPLETE");
    await stack.s3.send(
      new PutObjectCommand({
        Bucket: stack.deployment.bucket,
        Key: committed.components[0]?.key,
        Body: "overwritten",
      }),
    );
    await stack.pump.drain();
    const drill = await failedDrill();

    expect(await catalog.alerts.pending()).toHaveLength(3);
    expect(await notifier()()).toMatchObject({ pending: 3, sent: 3, messages: 3 });
    const messages = checkedPayloads().map((message) => JSON.stringify(message));
    expect(messages).toHaveLength(3);
    const find = (text: string) => messages.filter((message) => message.includes(text));
    expect(find("Restore drill FAILED")).toHaveLength(1);
    expect(find("Restore drill FAILED")[0]).toContain("restore: pg_restore exited 1");
    expect(find("Restore drill FAILED")[0]).toContain(`restorable drill show ${drill.id}`);
    expect(find("Backup set CORRUPT")).toHaveLength(1);
    expect(find("Backup set CORRUPT")[0]).toContain("component main.dump: S3 checksums its bytes as SHA256");
    expect(find("Backup set CORRUPT")[0]).toContain(`restorable catalog show ${corrupt.setId}`);
    expect(find("Committed backup overwritten")).toHaveLength(1);
    expect(find("Committed backup overwritten")[0]).toContain(`of committed set ${committed.setId} was overwritten`);
  });
});

/** Takes the queued S3 notifications off the queue without handling them, to deliver them by hand. */
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

/** A drill whose restore check failed, judged by the real finish step (it raises the alert). */
async function failedDrill(): Promise<DrillRecord> {
  const id = `d-20250602T030000Z-${Math.random().toString(16).slice(2, 10).padEnd(8, "0")}`;
  const record: DrillRecord = {
    id,
    source: "codebolt-prod",
    backupId: null,
    kind: "dumpset",
    status: "RUNNING",
    reason: null,
    trigger: "manual",
    startedAt: "2025-06-02T03:00:00Z",
    finishedAt: null,
    executionArn: null,
    instanceId: null,
    checks: [],
    phases: NO_PHASES,
    bytes: { downloaded: 0, restored: 0 },
    baseline: null,
    resticSubset: null,
    reportKey: null,
    deadline: null,
  };
  await catalog.drills.create(record);
  const report: AgentReport = {
    drillId: id,
    agentVersion: "test",
    startedAt: "2025-06-02T03:01:00Z",
    finishedAt: "2025-06-02T03:05:00Z",
    // What an agent may quote: the presigned URL it fetched, which must not reach Slack.
    checks: [
      { name: "integrity", passed: true, detail: "1 component verified" },
      { name: "restore", passed: false, detail: `pg_restore exited 1 reading ${PRESIGNED}` },
    ],
    phases: { download: 1, verify: 1, restore: 1, checks: null },
    bytes: { downloaded: 10, restored: 0 },
    baseline: null,
    resticSubset: null,
    error: null,
  };
  await stack.s3.send(
    new PutObjectCommand({ Bucket: stack.deployment.bucket, Key: drillKeys(id).report, Body: JSON.stringify(report) }),
  );
  return finishDrill(
    { drillId: id, instanceIds: ["i-1"], failure: null },
    {
      s3: stack.s3,
      bucket: stack.deployment.bucket,
      catalog: stack.catalog,
      drills: catalog.drills,
      alerts: catalog.alerts,
      repositories: catalog.repositories,
      now,
    },
  );
}

describe("without Slack", () => {
  it("sends nothing and marks nothing when the secret is absent, and says how many wait", async () => {
    const alert = await raise({ kind: "test", subject: "slack", message: "nobody listens", details: {} });
    const result = await notifier({}, "restorable/nothing-here/slack")();
    expect(result).toMatchObject({ sender: null, sent: 0 });
    expect(result.pending).toBeGreaterThanOrEqual(1);
    expect(logged.join("\n")).toMatch(/Slack is not connected: \d+ alerts wait/);
    expect((await catalog.alerts.pending()).map((a) => a.id)).toContain(alert.id);
  });

  it("prints each message in the terminal when the local stack gives it a console", async () => {
    await raise({
      kind: "test",
      subject: "slack",
      message: "Slack is connected: this is a test from restorable",
      details: {},
    });
    const printed: string[] = [];
    const result = await notifier(
      { fallback: new ConsoleSender((text) => printed.push(text)) },
      "restorable/none/slack",
    )();
    expect(result).toMatchObject({ sender: "console", sent: 1 });
    expect(printed.join("")).toContain("Slack is connected: this is a test from restorable");
    expect(printed.join("")).toContain("More: restorable alerts");
  });
});

describe("the alert queue", () => {
  it("claims conditionally: a live claim excludes other runs, an expired one does not, a sent alert is never claimed", async () => {
    const alert = (await raise({ kind: "test", subject: "claims", message: "claims", details: {} })) as Alert;
    const t = (minutes: number) => new Date(clock + minutes * 60_000);
    expect(await catalog.alerts.claim(alert.id, "run-a", t(5), t(0))).toBe(true);
    expect(await catalog.alerts.claim(alert.id, "run-b", t(6), t(1))).toBe(false);
    // Run A died after sending: its claim expires and run B takes the alert (the one window for a duplicate).
    expect(await catalog.alerts.claim(alert.id, "run-b", t(11), t(6))).toBe(true);
    expect(await catalog.alerts.markSent(alert.id, "run-a", t(6))).toBe(false);
    expect(await catalog.alerts.markSent(alert.id, "run-b", t(7))).toBe(true);
    expect(await catalog.alerts.claim(alert.id, "run-c", t(20), t(20))).toBe(false);
    expect((await catalog.alerts.pending()).map((a) => a.id)).not.toContain(alert.id);
  });
});

describe("restorable alerts", () => {
  it("test raises a sample alert that the notifier sends; the list shows it sent", async () => {
    const raised = await stack.cli(["alerts", "test", "--json"]);
    expect(raised.code, raised.stderr).toBe(0);
    const { alert } = JSON.parse(raised.stdout) as { alert: Alert };
    expect(alert).toMatchObject({ kind: "test", message: "Slack is connected: this is a test from restorable" });
    const human = await stack.cli(["alerts"]);
    expect(human.stdout).toMatch(/SENT/);
    expect(human.stdout).toMatch(/test\s+slack\s+pending/);

    expect(await notifier()()).toMatchObject({ sent: 1 });
    expect(JSON.stringify(checkedPayloads())).toContain("Slack is connected: this is a test from restorable");
    const listed = await stack.cli(["alerts", "--json", "--limit", "5"]);
    const { alerts } = JSON.parse(listed.stdout) as { alerts: (Alert & { pending: boolean })[] };
    expect(alerts.find((a) => a.id === alert.id)).toMatchObject({ pending: false, sentAt: now().toISOString() });
  });
});

describe("chat.postMessage (a bot token and a channel)", () => {
  const token = "xoxb-0000-leak-canary-token";
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
    status,
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const sender = () =>
    new ChatSender(token, "#backups", {
      slackApiUrl: `${new URL(slack.url).origin}/api/`,
      retry: { baseDelayMs: 50 },
    });

  it("posts the blocks to the channel, honouring a 429's Retry-After", async () => {
    slack.respond(json(429, { ok: false, error: "ratelimited" }, { "retry-after": "1" }), json(200, { ok: true }));
    const message = alertMessage({
      id: "x",
      at: now().toISOString(),
      kind: "test",
      subject: "slack",
      message: "Slack is connected: this is a test from restorable",
      details: {},
      sentAt: null,
    });
    await sender().send(message);
    expect(slack.requests.map((r) => [r.path, r.status])).toEqual([
      ["/api/chat.postMessage", 429],
      ["/api/chat.postMessage", 200],
    ]);
    const { channel, ...posted } = JSON.parse(slack.requests[1]?.body ?? "{}") as SlackMessage & { channel: string };
    expect(channel).toBe("#backups");
    expectValidPayload(JSON.stringify(posted), [token]);
    expect(slack.requests[1]?.headers.authorization).toBe(`Bearer ${token}`);
    expect(secretsIn(slack.requests[1]?.body ?? "", [token])).toEqual([]);
  });

  it("gives up at once when Slack refuses (channel_not_found), saying why without the token", async () => {
    slack.respond(json(200, { ok: false, error: "channel_not_found" }));
    const error = await sender()
      .send({ text: "x", blocks: [{ type: "section", text: { type: "mrkdwn", text: "x" } }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SendError);
    expect(error).toMatchObject({ retryable: false });
    expect((error as Error).message).toContain("channel_not_found");
    expect((error as Error).message).not.toContain(token);
    expect(slack.requests).toHaveLength(1);
  });
});
