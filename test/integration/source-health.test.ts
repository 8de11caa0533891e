import { createHash } from "node:crypto";
import type { Context } from "aws-lambda";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createHealthEvaluator, type HealthEvaluatorResult } from "../../functions/health-evaluator";
import type { Alert } from "../../shared/catalog/alerts";
import { type Catalog, openCatalog } from "../../shared/catalog/dynamo/open";
import { type BackupStatus, DumpSetEntrySchema, ResticSnapshotEntrySchema } from "../../shared/catalog/entry";
import { startTestStack, type TestStack } from "../support/stack";

const H = 3600_000;
const D = 24 * H;
const CONTEXT = { functionName: "healthEvaluator", awsRequestId: "test" } as Context;

let stack: TestStack | undefined;
/** The first stack of a process synthesizes the CDK app (the drill state machine): started before any test. */
let ready: TestStack | undefined;
beforeAll(async () => {
  ready = await startTestStack("health");
});
afterEach(async () => {
  await stack?.handlers.stop();
  stack = undefined;
});
afterAll(async () => {
  await ready?.handlers.stop();
});

/** A stack of its own (its own table: evaluations see only this test's sources) and a clock to move. */
async function setUp(label: string, start: Date) {
  stack = ready ?? (await startTestStack(label));
  ready = undefined;
  const current = stack;
  const catalog = openCatalog(current.dynamo, current.deployment.table);
  const clock = { now: start };
  const evaluator = () =>
    createHealthEvaluator({ catalogTable: current.deployment.table }, { dynamo: current.dynamo }, undefined, {
      now: () => clock.now,
    });
  const run = evaluator();
  return {
    stack: current,
    catalog,
    clock,
    evaluate: () => run({}, CONTEXT) as Promise<HealthEvaluatorResult>,
    /** Another evaluator, as a second concurrent Lambda would be. */
    evaluator: () => {
      const other = evaluator();
      return () => other({}, CONTEXT) as Promise<HealthEvaluatorResult>;
    },
    advance: (ms: number) => {
      clock.now = new Date(clock.now.getTime() + ms);
    },
    healthAlerts: async (): Promise<Alert[]> =>
      (await catalog.alerts.recent(500)).filter((alert) => alert.kind.startsWith("source-")).reverse(),
  };
}

let serial = 0;
async function recordDumpSet(catalog: Catalog, source: string, createdAt: Date, status: BackupStatus = "COMPLETE") {
  const id = `${createdAt.toISOString().replace(/[-:.]/g, "")}-${(serial++).toString(16).padStart(4, "0")}`;
  const at = createdAt.toISOString();
  const entry = DumpSetEntrySchema.parse({
    id,
    source,
    kind: "dumpset",
    createdAt: at,
    status,
    statusReason: status === "COMPLETE" ? null : "a component is missing",
    statusChangedAt: at,
    hostname: "db1",
    tags: [],
    sizeBytes: 1000,
    indexedAt: at,
    manifestKey: `sets/${source}/${id}/restorable.manifest.json`,
    manifestVersion: "v1",
    serverVersion: null,
    masterKeyId: null,
    components: [],
    problems: [],
  });
  await catalog.backups.recordBackup(entry, "v1");
}

async function recordSnapshot(catalog: Catalog, source: string, repository: string, createdAt: Date) {
  const id = createHash("sha256").update(`${source} ${createdAt.toISOString()}`).digest("hex");
  const at = createdAt.toISOString();
  const entry = ResticSnapshotEntrySchema.parse({
    id,
    source,
    kind: "restic",
    createdAt: at,
    status: "COMPLETE",
    statusReason: null,
    statusChangedAt: at,
    hostname: "ws1",
    tags: [],
    sizeBytes: null,
    indexedAt: at,
    repository,
    snapshotKey: `restic/${repository}/snapshots/${id}`,
    resticTime: at,
    username: "coder",
    paths: ["/home/coder"],
    tree: null,
    parent: null,
    programVersion: null,
    summary: null,
    forgottenAt: null,
  });
  await catalog.backups.recordBackup(entry, null);
}

/** Daily COMPLETE backups, the newest at `newest`. */
async function daily(catalog: Catalog, source: string, newest: Date, count: number) {
  for (let i = count - 1; i >= 0; i--) await recordDumpSet(catalog, source, new Date(newest.getTime() - i * D));
}

describe("source health, as the scheduled evaluator judges it", () => {
  it("goes UP → LATE → STALE with one alert each, reminds once after N hours, and tells the recovery", async () => {
    const newest = new Date("2026-03-10T02:00:00.000Z");
    const t = await setUp("health-daily", new Date(newest.getTime() + 10 * H));
    await daily(t.catalog, "db", newest, 5);
    // A newer set that is not COMPLETE has not "arrived".
    await recordDumpSet(t.catalog, "db", new Date(newest.getTime() + 20 * H), "INCOMPLETE");
    await t.catalog.health.putSettings({ kind: "source", source: "db" }, { remindEverySeconds: 12 * 3600 });

    expect(await t.evaluate()).toMatchObject({ sources: 1, transitions: 1, alerts: 0, stale: 0 });
    expect((await t.catalog.health.get("db"))?.status?.state).toBe("UP");

    t.clock.now = new Date(newest.getTime() + D + 5 * 60_000);
    expect(await t.evaluate()).toMatchObject({ transitions: 1, alerts: 1, late: 1 });
    expect(await t.evaluate()).toMatchObject({ transitions: 0, alerts: 0, late: 1 });

    // Due at 02:00, grace max(1h, 10% of a day) = 2h24m: STALE from 04:24.
    t.clock.now = new Date(newest.getTime() + D + 2.4 * H + 60_000);
    expect(await t.evaluate()).toMatchObject({ transitions: 1, alerts: 1, stale: 1 });
    t.advance(11 * H);
    expect(await t.evaluate()).toMatchObject({ transitions: 0, alerts: 0 });
    t.advance(1 * H);
    expect(await t.evaluate()).toMatchObject({ alerts: 1 });
    t.advance(30 * 60_000);
    expect(await t.evaluate()).toMatchObject({ alerts: 0 });

    await recordDumpSet(t.catalog, "db", new Date(t.clock.now.getTime() - 10 * 60_000));
    expect(await t.evaluate()).toMatchObject({ transitions: 1, alerts: 1, stale: 0 });
    expect(await t.evaluate()).toMatchObject({ transitions: 0, alerts: 0 });

    const alerts = await t.healthAlerts();
    expect(alerts.map((alert) => alert.kind)).toEqual([
      "source-late",
      "source-stale",
      "source-stale-reminder",
      "source-recovered",
    ]);
    const [late, stale, , recovered] = alerts;
    expect(late?.details).toMatchObject({
      source: "db",
      state: "LATE",
      lastBackupAt: newest.toISOString(),
      ageSeconds: 24 * 3600 + 5 * 60,
      expectation: "every 1d + 2h24m grace",
      expectationOrigin: "inferred",
      lastProvenRestorable: null,
    });
    expect(stale?.details).toMatchObject({
      state: "STALE",
      since: new Date(newest.getTime() + D + 2.4 * H).toISOString(),
    });
    // Down from the missed 02:00 until the evaluation that saw the new backup: 12h + 2h24m + 1m + 30m.
    expect(recovered?.message).toMatch(/back to normal, down for 14h55m/);
    expect(recovered?.details).toMatchObject({
      state: "UP",
      downSince: new Date(newest.getTime() + D).toISOString(),
      downForSeconds: (14 * 60 + 55) * 60,
    });
  });

  it("raises nothing for a PAUSED source, however late", async () => {
    const newest = new Date("2026-03-10T02:00:00.000Z");
    const t = await setUp("health-paused", new Date(newest.getTime() + H));
    await daily(t.catalog, "ws-stopped", newest, 4);
    await t.catalog.health.setPaused("ws-stopped", true, t.clock.now);
    for (const days of [1, 2, 5, 30]) {
      t.clock.now = new Date(newest.getTime() + days * D + 3 * H);
      await t.evaluate();
    }
    expect(await t.healthAlerts()).toEqual([]);
    expect((await t.catalog.health.get("ws-stopped"))?.status?.state).toBe("PAUSED");

    // Resumed: due a day after the resumption, so nothing at once.
    await t.catalog.health.setPaused("ws-stopped", false, t.clock.now);
    expect(await t.evaluate()).toMatchObject({ transitions: 1, alerts: 0 });
    expect((await t.catalog.health.get("ws-stopped"))?.status?.state).toBe("UP");
  });

  it("stores 50 sources going STALE in one evaluation as 50 transitions and raises 50 alerts", async () => {
    const newest = new Date("2026-03-10T02:00:00.000Z");
    const t = await setUp("health-many", new Date(newest.getTime() + H));
    const sources = Array.from({ length: 50 }, (_, i) => `ws-${String(i).padStart(2, "0")}`);
    await Promise.all(sources.map((source) => daily(t.catalog, source, newest, 3)));
    expect(await t.evaluate()).toMatchObject({ sources: 50, transitions: 50, alerts: 0 });

    t.advance(3 * D);
    expect(await t.evaluate()).toMatchObject({ sources: 50, transitions: 50, alerts: 50, stale: 50 });
    const alerts = await t.healthAlerts();
    expect(alerts).toHaveLength(50);
    expect(new Set(alerts.map((alert) => alert.details.source))).toEqual(new Set(sources));
    expect((await t.catalog.health.list()).filter((health) => health.status?.state === "STALE")).toHaveLength(50);
  });

  it("raises each transition once when two evaluations run at the same time", async () => {
    const newest = new Date("2026-03-10T02:00:00.000Z");
    const t = await setUp("health-concurrent", new Date(newest.getTime() + H));
    const sources = Array.from({ length: 10 }, (_, i) => `db-${i}`);
    await Promise.all(sources.map((source) => daily(t.catalog, source, newest, 4)));
    const [first, second] = [t.evaluator(), t.evaluator()];
    const both = () => Promise.all([first(), second()]);
    const kinds = async () => (await t.healthAlerts()).map((alert) => `${alert.kind} ${alert.details.source}`).sort();
    const each = (kind: string) => sources.map((source) => `${kind} ${source}`);

    // DynamoDB lets one of two conditional writes on an item win; the emulator does not serialize them, so
    // there both runs may record a change. Its alert is still raised once: its id is its key's, which both
    // runs compute alike (source + state + since), and raiseOnce writes it only if new.
    await both();
    t.advance(D);
    await both();
    expect(await kinds()).toEqual(each("source-late"));
    t.advance(2 * D);
    await both();
    t.advance(D);
    await both();
    for (const source of sources) await recordDumpSet(t.catalog, source, t.clock.now);
    await both();
    await both();
    expect(await kinds()).toEqual(
      [
        ...each("source-late"),
        ...each("source-stale"),
        ...each("source-stale-reminder"),
        ...each("source-recovered"),
      ].sort(),
    );
    const states = (await t.catalog.health.list()).map((health) => [
      health.source,
      health.status?.state,
      health.pending,
    ]);
    expect(states).toEqual(sources.map((source) => [source, "UP", null]));
  });
});

describe("restorable sources", () => {
  it("lists, sets, pauses and checks source health, and names the closest source to a typo", async () => {
    const now = Date.now();
    const t = await setUp("health-cli", new Date(now));
    const { cli } = t.stack;
    await daily(t.catalog, "codebolt-prod", new Date(now - 2 * H), 5);
    await daily(t.catalog, "nightly", new Date(now - 3 * H), 2);
    // Its cron's last occurrence was 4-5 hours ago, before its newest backup, whatever the time of day the test runs.
    const nightlyHour = new Intl.DateTimeFormat("en-GB", {
      timeZone: "Europe/Berlin",
      hour: "numeric",
      hourCycle: "h23",
    }).format(new Date(now - 4 * H));
    const nightlyCron = `0 ${Number(nightlyHour)} * * *`;
    await t.catalog.repositories.register({
      name: "workspaces",
      secretName: "restorable/test/restic/workspaces",
      groupBy: ["host"],
      verifySlices: 30,
      createdAt: new Date(now).toISOString(),
      health: null,
      verification: null,
    });
    const workspace = "restic:workspaces host [ws1]";
    for (const hours of [54, 30]) await recordSnapshot(t.catalog, workspace, "workspaces", new Date(now - hours * H));

    const listed = await cli(["sources", "list", "--json"]);
    expect(listed.code, listed.stderr).toBe(0);
    const bySource = new Map(JSON.parse(listed.stdout).sources.map((s: { source: string }) => [s.source, s]));
    expect(bySource.get("codebolt-prod")).toMatchObject({
      state: "UP",
      lastBackup: { ageSeconds: expect.toSatisfy((age: number) => age >= 7200 && age < 7500) },
      expectation: { every: 86_400, origin: "inferred", text: "every 1d + 2h24m grace" },
      lastProvenRestorable: null,
      lastDrill: null,
    });
    expect(bySource.get("nightly")).toMatchObject({ state: "NEW", expectation: null });

    const typo = await cli(["sources", "set", "codebolt-prd", "--every", "24h"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("did you mean codebolt-prod?");
    const badDuration = await cli(["sources", "set", "nightly", "--every", "1.5h"]);
    expect(badDuration.code).toBe(2);

    const cron = await cli(
      ["sources", "set", "nightly", "--cron", nightlyCron, "--tz", "Europe/Berlin", "--grace", "2h"],
      { env: { NO_COLOR: "" } },
    );
    expect(cron.code, cron.stderr).toBe(0);
    expect(cron.stdout).toContain(`Set nightly: ${nightlyCron} Europe/Berlin + 2h grace.`);
    const repo = await cli([
      "sources",
      "set",
      "--repo",
      "workspaces",
      "--every",
      "12h",
      "--remind-every",
      "6h",
      "--json",
    ]);
    expect(repo.code, repo.stderr).toBe(0);
    expect(JSON.parse(repo.stdout)).toMatchObject({
      settings: { expectation: { every: 43_200, graceSeconds: 4320 }, remindEverySeconds: 21_600 },
      appliesTo: [workspace],
    });

    // What if it were three days later: judged, but nothing recorded or raised.
    const whatIf = await cli(["sources", "check", "--now", new Date(now + 3 * D).toISOString(), "--json"]);
    expect(whatIf.code, whatIf.stderr).toBe(0);
    const judged = JSON.parse(whatIf.stdout);
    expect(judged.dryRun).toBe(true);
    expect(judged.sources.find((s: { source: string }) => s.source === "codebolt-prod")).toMatchObject({
      state: "STALE",
      alert: { kind: "source-stale" },
    });
    expect(await t.catalog.health.get("codebolt-prod")).toBeUndefined();
    expect(await t.healthAlerts()).toEqual([]);

    const paused = await cli(["sources", "pause", "codebolt-prod"]);
    expect(paused.code, paused.stderr).toBe(0);
    // The workspace's backup is 30h old against its repository's 12h + 1h12m: STALE, for real this time.
    const checked = await cli(["sources", "check"]);
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout).toMatch(/Evaluated 3 sources at .*: \d changed state, 1 alert raised/);
    expect((await t.healthAlerts()).map((alert) => [alert.kind, alert.details.source])).toEqual([
      ["source-stale", workspace],
    ]);

    const text = await cli(["sources", "list"]);
    expect(text.stdout).not.toContain("\u001b[");
    expect(text.stdout).toMatch(
      /^codebolt-prod\s+PAUSED\s+2h ago\s+every 1d \+ 2h24m grace \(inferred\)\s+never\s+-$/m,
    );
    expect(text.stdout).toMatch(
      new RegExp(
        `^nightly\\s+UP\\s+3h ago\\s+${nightlyCron.replaceAll("*", "\\*")} Europe/Berlin \\+ 2h grace\\s`,
        "m",
      ),
    );
    expect(text.stdout).toContain("every 12h + 1h12m grace (repository's)");

    // The scheduled evaluator, as the local stack runs it: nothing new to record.
    expect(await t.stack.runScheduled("healthEvaluator")).toMatchObject({ sources: 3, transitions: 0, alerts: 0 });
  });
});
