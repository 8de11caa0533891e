import { describe, expect, it } from "vitest";
import type { Alert, AlertKind, AlertStore } from "../../shared/catalog/alerts";
import { silentLog } from "../../shared/log";
import { parseSlackTarget } from "../../shared/notify/connect";
import { renderText } from "../../shared/notify/console-sender";
import { digestMessages } from "../../shared/notify/digest";
import { alertMessage } from "../../shared/notify/messages";
import { notifyPending } from "../../shared/notify/notify";
import { SendError, type Sender, type SlackMessage } from "../../shared/notify/ports";
import { type RetryPolicy, retryAfterMs, withRetries } from "../../shared/notify/retry";
import { outgoing, scrubText } from "../../shared/notify/scrub";
import { classify } from "../../shared/notify/webhook-sender";
import { expectValidPayload, secretsIn } from "../support/slack";

const AT = "2025-06-02T05:00:00.000Z";
let counter = 0;

function alert(kind: AlertKind, subject: string, message: string, details: Record<string, unknown> = {}): Alert {
  counter++;
  return {
    id: `a${String(counter).padStart(4, "0")}`,
    at: new Date(Date.parse(AT) + counter * 1000).toISOString(),
    kind,
    subject,
    message,
    details,
    sentAt: null,
  };
}

const PRESIGNED =
  "https://b.s3.us-east-1.amazonaws.com/drills/d-1/report.json?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20250601&X-Amz-Signature=0123abcd";

/** One alert of every kind, as the code that raises them words them (plus what the health engineer fills). */
const EVERY_KIND: Alert[] = [
  alert("source-stale", "codebolt-prod is STALE", "codebolt-prod is past due and past its grace", {
    source: "codebolt-prod",
    state: "STALE",
    lastBackupAt: "2025-06-01T02:00:00Z",
    ageSeconds: 27 * 3600,
    expectation: "every 24h + 2h grace",
    lastProvenRestorable: { at: "2025-05-20T03:00:00Z", backupId: "20250519T020000Z-abc", drillId: "d-1" },
    rtoSeconds: 252,
    downSince: "2025-06-02T02:00:00Z",
  }),
  alert("source-late", "laptop is LATE", "laptop is past due", {
    source: "laptop",
    state: "LATE",
    lastBackupAt: "2025-06-01T01:00:00Z",
    expectation: "every 24h + 2h grace",
    lastProvenRestorable: null,
  }),
  alert("source-stale-reminder", "laptop is still STALE", "laptop has been down for 2d", {
    source: "laptop",
    state: "STALE",
    downSince: "2025-05-31T01:00:00Z",
  }),
  alert("source-recovered", "laptop is back to normal", "laptop is back to normal, down for 3h", {
    source: "laptop",
    state: "UP",
    downSince: "2025-06-02T01:00:00Z",
    downForSeconds: 3 * 3600,
  }),
  alert(
    "drill-failed",
    "codebolt-prod",
    "restore drill d-20250601T030000Z-1a2b3c4d of codebolt-prod FAILED: restore: pg_restore exited 1",
    {
      drillId: "d-20250601T030000Z-1a2b3c4d",
      status: "FAILED",
      backupId: "20250601T020000Z-abc",
      reason: `restore: pg_restore exited 1 (fetching ${PRESIGNED})`,
    },
  ),
  alert("set-corrupt", "codebolt-prod", "backup set X of codebolt-prod is CORRUPT: component main.dump: …", {
    setId: "20250601T020000Z-abc",
    source: "codebolt-prod",
    reason: "component main.dump is 10 bytes in S3, the manifest says 14",
  }),
  alert("history-replaced", "codebolt-prod", "sets/codebolt-prod/x/main.dump of committed set x was overwritten", {
    key: "sets/codebolt-prod/x/main.dump",
    setId: "x",
    source: "codebolt-prod",
    principal: "AWS:AIDAEXAMPLE",
  }),
  alert("restic-file-misnamed", "restic:workspaces", "restic repository workspaces: keys/abc has wrong bytes", {
    repository: "workspaces",
    key: "restic/workspaces/keys/abc",
  }),
  alert("retention-refused", "codebolt-prod", "retention refused for codebolt-prod: would remove every backup", {
    planned: 10,
    kept: 0,
  }),
  alert("retention-failed", "codebolt-prod", "AccessDenied: password=hunter2 is wrong"),
  alert("bucket-drift", "restorable-backups", "bucket settings drifted: versioning (repaired)", {
    drift: [{ setting: "versioning", repaired: true }],
  }),
  alert("ingest-dead-letters", "ingest", "3 messages the indexer gave up on wait", { count: 3 }),
  alert("alarm", "restorable-dlq-not-empty", "alarm restorable-dlq-not-empty is ALARM: Threshold crossed", {
    alarm: "restorable-dlq-not-empty",
    state: "ALARM",
    reason: "Threshold crossed",
  }),
  alert("test", "slack", "Slack is connected: this is a test from restorable", { requestedBy: "ops@host" }),
  alert("master-key-not-held", "codebolt-prod", "backups of codebolt-prod name master key mk-2019-lost …", {
    source: "codebolt-prod",
    masterKeyId: "mk-2019-lost",
    setId: "20250601T020000Z-abc",
  }),
];

const textOf = (message: SlackMessage) => JSON.stringify(message);

describe("a message per alert", () => {
  it.each(EVERY_KIND.map((a) => [a.kind, a] as const))(
    "%s: valid Block Kit, a header, a command, no secret",
    (_, a) => {
      const message = outgoing(alertMessage(a));
      expectValidPayload(message);
      expect(message.blocks[0]?.type).toBe("header");
      expect(message.blocks.at(-1)?.type).toBe("context");
      expect(textOf(message)).toMatch(/restorable [a-z]+/);
    },
  );

  it("says source, state, last good backup and its age against the expectation, proof of restore and RTO", () => {
    const text = textOf(alertMessage(EVERY_KIND[0] as Alert));
    expect(text).toContain("Backups STALE: codebolt-prod");
    expect(text).toContain("*State*\\n*STALE*");
    expect(text).toContain("2025-06-01 02:00 UTC (1d 3h ago)");
    expect(text).toContain("every 24h + 2h grace");
    expect(text).toContain("*Last proven restorable*\\n2025-05-20 03:00 UTC (drill `d-1`)");
    expect(text).toContain("*Restore time (RTO)*\\n4m 12s");
    expect(text).toContain("*Down since*\\n2025-06-02 02:00 UTC");
    expect(text).toContain("`restorable sources list`");
    expect(textOf(alertMessage(EVERY_KIND[1] as Alert))).toContain("*Last proven restorable*\\nnever");
    expect(textOf(alertMessage(EVERY_KIND[3] as Alert))).toContain("*Was down for*\\n3h");
  });

  it("names the failing check of a drill and the command that shows it", () => {
    const text = textOf(outgoing(alertMessage(EVERY_KIND[4] as Alert)));
    expect(text).toContain("Restore drill FAILED: codebolt-prod");
    expect(text).toContain("restore: pg_restore exited 1");
    expect(text).toContain("`restorable drill show d-20250601T030000Z-1a2b3c4d`");
    expect(text).toContain("[presigned URL removed]");
  });

  it("names the reason of a CORRUPT set and the commands for the others", () => {
    expect(textOf(alertMessage(EVERY_KIND[5] as Alert))).toContain("the manifest says 14");
    expect(textOf(alertMessage(EVERY_KIND[5] as Alert))).toContain("`restorable catalog show 20250601T020000Z-abc`");
    expect(textOf(alertMessage(EVERY_KIND[7] as Alert))).toContain("`restorable restic verify workspaces`");
    expect(textOf(alertMessage(EVERY_KIND[8] as Alert))).toContain(
      "`restorable retention plan --source codebolt-prod`",
    );
    expect(textOf(alertMessage(EVERY_KIND[11] as Alert))).toContain("`restorable ingest dlq`");
  });

  it("names the master key a source's sets need and how to give it to the service", () => {
    const text = textOf(alertMessage(EVERY_KIND.find((a) => a.kind === "master-key-not-held") as Alert));
    expect(text).toContain("Master key not held: codebolt-prod");
    expect(text).toContain("`mk-2019-lost`");
    expect(text).toContain("`restorable key import --key-file &lt;file&gt; --key-id mk-2019-lost`");
  });

  it("escapes Slack's control characters, so an alert cannot ping a channel or forge a link", () => {
    const text = textOf(alertMessage(alert("retention-failed", "x", "<!channel> see <http://evil|here> & more")));
    expect(text).not.toContain("<!channel>");
    expect(text).toContain("&lt;!channel&gt;");
    expect(text).toContain("&amp; more");
  });

  it("keeps within Slack's limits whatever the alert holds", () => {
    const huge = alert("drill-failed", "s".repeat(500), "m".repeat(10_000), {
      drillId: "d".repeat(300),
      reason: "r".repeat(10_000),
      status: "FAILED",
    });
    expectValidPayload(outgoing(alertMessage(huge)));
  });
});

describe("the digest", () => {
  const stale = (n: number, message = "is past due and past its grace") =>
    Array.from({ length: n }, (_, i) =>
      alert("source-stale", `ws-${i} is STALE`, `ws-${i} ${message}`, {
        source: `ws-${i}`,
        state: "STALE",
        lastBackupAt: "2025-06-01T02:00:00Z",
        ageSeconds: 27 * 3600,
        expectation: "every 24h + 2h grace",
      }),
    );

  it("puts 50 alerts in one message, grouped, each once, within the limits", () => {
    const alerts = [...stale(48), EVERY_KIND[4] as Alert, EVERY_KIND[11] as Alert];
    const parts = digestMessages(alerts);
    expect(parts).toHaveLength(1);
    const message = expectValidPayload(outgoing((parts[0] as { message: SlackMessage }).message));
    const text = textOf(message);
    for (let i = 0; i < 48; i++) expect(text.split(`\`ws-${i}\``).length - 1, `ws-${i}`).toBe(1);
    expect(text.indexOf("Restore drills that did not pass")).toBeLessThan(text.indexOf("Backups STALE"));
    expect(message.text).toMatch(/^50 restorable alerts: 1 Restore drills that did not pass · 48 Backups STALE/);
  });

  it("splits only as Slack's limits require, each alert in exactly one part", () => {
    const alerts = Array.from({ length: 400 }, (_, i) =>
      alert("retention-failed", `src-${i}`, `${i} ${"x".repeat(950)}`),
    );
    const parts = digestMessages(alerts, 1000);
    // ~1 KB a line: two a section, 47 sections (and a header, a summary and a context) a message.
    expect(parts.length).toBe(Math.ceil(400 / (2 * 47)));
    expect(parts.slice(0, -1).map((part) => part.message.blocks.length)).toEqual([50, 50, 50, 50]);
    const ids = parts.flatMap((part) => part.alerts.map((a) => a.id));
    expect(ids.sort()).toEqual(alerts.map((a) => a.id).sort());
    for (const part of parts) expectValidPayload(outgoing(part.message));
    expect(textOf(parts[1]?.message as SlackMessage)).toContain("*Retention failed* (continued)");
  });

  it("never carries more than maxPerMessage alerts in one message", () => {
    const parts = digestMessages(stale(25), 10);
    expect(parts.map((part) => part.alerts.length)).toEqual([10, 10, 5]);
  });
});

describe("the scrubber", () => {
  const canaries = [
    PRESIGNED,
    "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX",
    "xoxb-1234-5678-abcdefghijkl",
    "postgresql://admin:s3cret-pw@db.internal/codebolt",
    "PGPASSWORD=hunter2",
    '{"password": "hunter2"}',
    "RESTIC_PASSWORD=correct-horse",
    "https://bucket.s3.amazonaws.com/key?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=abc%3D&Expires=1",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
  ];

  it.each(canaries)("removes %s", (canary) => {
    const scrubbed = scrubText(`before ${canary} after`);
    expect(secretsIn(scrubbed)).toEqual([]);
    expect(scrubbed).toMatch(/^before .*after$/s);
    expect(scrubbed).not.toContain("hunter2");
    expect(scrubbed).not.toContain("s3cret-pw");
  });

  it("removes the destination's own secrets, and keeps what is not secret", () => {
    expect(
      scrubText("posting to https://example.test/hook/abc123xyz failed", ["https://example.test/hook/abc123xyz"]),
    ).toBe("posting to [secret removed] failed");
    const plain = "restore drill d-1 of codebolt-prod FAILED: sql:memories-present: 0 rows; master key mk-1 is held";
    expect(scrubText(plain)).toBe(plain);
  });

  it("runs over every string of every outgoing payload, after which the limits still hold", () => {
    const message = alertMessage(alert("retention-failed", "src", `boom ${canaries.join(" ")}`.repeat(20)));
    const sent = outgoing(message, ["hunter2"]);
    expectValidPayload(sent);
  });
});

describe("retries", () => {
  const policy = (sleeps: number[]): RetryPolicy => {
    let clock = 0;
    return {
      attempts: 4,
      baseDelayMs: 1000,
      maxDelayMs: 8000,
      rateLimitedAttempts: 3,
      budgetMs: 45_000,
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
    };
  };
  const failing = (statuses: (number | null)[], headers: Record<string, unknown> = {}) => {
    let call = 0;
    return {
      calls: () => call,
      post: async () => {
        const status = statuses[call++];
        if (status === undefined || status === 200) return;
        throw { status, headers };
      },
    };
  };
  const classifyFake = (error: unknown) =>
    classify({ body: "", ...(error as { status: number | null; headers: Record<string, unknown> }) });

  it("waits Retry-After on a 429, then succeeds", async () => {
    const sleeps: number[] = [];
    const post = failing([429, 200], { "retry-after": "2" });
    await withRetries(post.post, classifyFake, policy(sleeps));
    expect(sleeps).toEqual([2000]);
    expect(post.calls()).toBe(2);
  });

  it("backs off exponentially on 5xx and network errors, and gives up after the attempts", async () => {
    const sleeps: number[] = [];
    const post = failing([500, null, 503, 502]);
    const error = await withRetries(post.post, classifyFake, policy(sleeps)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SendError);
    expect((error as SendError).retryable).toBe(true);
    expect(sleeps).toEqual([1000, 2000, 4000]);
    expect(post.calls()).toBe(4);
  });

  it("gives up at once on another 4xx, and on a Retry-After beyond the budget", async () => {
    const refused = await withRetries(failing([404]).post, classifyFake, policy([])).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 404, retryable: false });
    const sleeps: number[] = [];
    const long = failing([429], { "retry-after": "600" });
    expect(await withRetries(long.post, classifyFake, policy(sleeps)).catch((e: unknown) => e)).toMatchObject({
      status: 429,
      retryable: true,
    });
    expect(sleeps).toEqual([]);
  });

  it("reads Retry-After as seconds or a date", () => {
    expect(retryAfterMs("2")).toBe(2000);
    expect(retryAfterMs(["3"])).toBe(3000);
    expect(retryAfterMs(undefined)).toBe(1000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 5_000)).toBe(5000);
  });
});

describe("the Slack secret", () => {
  it("holds a webhook URL or {token, channel}", () => {
    expect(parseSlackTarget("https://hooks.slack.com/services/T/B/X")).toEqual({
      kind: "webhook",
      url: "https://hooks.slack.com/services/T/B/X",
    });
    expect(parseSlackTarget('{"token":"xoxb-1","channel":"#backups"}')).toEqual({
      kind: "chat",
      token: "xoxb-1",
      channel: "#backups",
    });
    expect(parseSlackTarget("{}"), "a placeholder: not connected").toBeUndefined();
    expect(parseSlackTarget('{"placeholder":"x7Gq"}')).toBeUndefined();
    expect(parseSlackTarget('{"token":"xoxb-1"}')?.kind).toBe("invalid");
    const invalid = parseSlackTarget("not a url hunter2");
    expect(invalid?.kind).toBe("invalid");
    expect(JSON.stringify(invalid)).not.toContain("hunter2");
  });
});

/** The AlertStore's queue in memory, with its claim rules, to drive notifyPending. */
class MemoryAlerts implements Pick<AlertStore, "pending" | "claim" | "markSent" | "release"> {
  readonly items = new Map<string, { alert: Alert; claimedBy?: string; claimedUntil?: string }>();
  constructor(alerts: Alert[]) {
    for (const a of alerts) this.items.set(a.id, { alert: { ...a } });
  }
  async pending(limit = 100) {
    return [...this.items.values()]
      .filter((item) => !item.alert.sentAt)
      .map((item) => item.alert)
      .slice(0, limit);
  }
  async claim(id: string, owner: string, until: Date, now: Date) {
    const item = this.items.get(id);
    if (!item || item.alert.sentAt) return false;
    if (item.claimedUntil && item.claimedUntil >= now.toISOString() && item.claimedBy !== owner) return false;
    Object.assign(item, { claimedBy: owner, claimedUntil: until.toISOString() });
    return true;
  }
  async markSent(id: string, owner: string, at: Date) {
    const item = this.items.get(id);
    if (!item || item.alert.sentAt || item.claimedBy !== owner) return false;
    item.alert.sentAt = at.toISOString();
    item.claimedBy = undefined;
    item.claimedUntil = undefined;
    return true;
  }
  async release(id: string, owner: string) {
    const item = this.items.get(id);
    if (item?.claimedBy === owner) Object.assign(item, { claimedBy: undefined, claimedUntil: undefined });
  }
}

class RecordingSender implements Sender {
  readonly name = "recording";
  readonly sent: SlackMessage[] = [];
  failNext = 0;
  async send(message: SlackMessage) {
    if (this.failNext > 0) {
      this.failNext--;
      throw new SendError("Slack is unavailable (HTTP 503)", 503, true);
    }
    this.sent.push(outgoing(message));
  }
}

describe("notifyPending", () => {
  const now = () => new Date(AT);
  const stale = (n: number) => Array.from({ length: n }, (_, i) => alert("source-stale", `s${i}`, `s${i} is STALE`));

  it("sends a few alerts one message each, more as one digest, and marks each sent", async () => {
    const few = new MemoryAlerts(stale(3));
    const sender = new RecordingSender();
    expect(await notifyPending({ alerts: few, sender, now, log: silentLog })).toMatchObject({ sent: 3, messages: 3 });
    const many = new MemoryAlerts(stale(4));
    const digest = new RecordingSender();
    expect(await notifyPending({ alerts: many, sender: digest, now, log: silentLog })).toMatchObject({
      sent: 4,
      messages: 1,
    });
    expect(await many.pending()).toEqual([]);
    expect(digest.sent[0]?.text).toMatch(/^4 restorable alerts/);
  });

  it("leaves every alert pending and unclaimed when the send fails, and sends it on the next run", async () => {
    const alerts = new MemoryAlerts(stale(2));
    const sender = new RecordingSender();
    sender.failNext = 1;
    const failed = await notifyPending({ alerts, sender, now, log: silentLog });
    expect(failed).toMatchObject({ sent: 0, messages: 0, failure: "Slack is unavailable (HTTP 503)" });
    expect(await alerts.pending()).toHaveLength(2);
    expect([...alerts.items.values()].every((item) => item.claimedBy === undefined)).toBe(true);
    expect(await notifyPending({ alerts, sender, now, log: silentLog })).toMatchObject({ sent: 2, messages: 2 });
  });

  it("skips what another run holds until its claim expires", async () => {
    const alerts = new MemoryAlerts(stale(2));
    const [first] = await alerts.pending();
    await alerts.claim((first as Alert).id, "other-run", new Date(Date.parse(AT) + 60_000), now());
    const sender = new RecordingSender();
    expect(await notifyPending({ alerts, sender, now, log: silentLog })).toMatchObject({ pending: 2, sent: 1 });
    const later = () => new Date(Date.parse(AT) + 120_000);
    expect(await notifyPending({ alerts, sender, now: later, log: silentLog })).toMatchObject({ sent: 1 });
    expect(sender.sent).toHaveLength(2);
  });

  it("prints a message as text for the terminal", () => {
    const text = renderText(alertMessage(EVERY_KIND[0] as Alert));
    expect(text).toContain("Backups STALE: codebolt-prod");
    expect(text).toContain("Expected: every 24h + 2h grace");
    expect(text).toContain("More: restorable sources list");
  });
});
