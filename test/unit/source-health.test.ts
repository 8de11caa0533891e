import { describe, expect, it } from "vitest";
import { healthAlert } from "../../shared/health/alerts";
import { formatDuration, parseDuration } from "../../shared/health/duration";
import { evaluateHealth, type HealthInput, judgeHealth, notificationFor } from "../../shared/health/evaluate";
import {
  cronPeriodSeconds,
  defaultGraceSeconds,
  describeExpectation,
  ExpectationSchema,
  inferExpectation,
  median,
  nextDue,
} from "../../shared/health/expectation";
import { emptyHealth, type StoredHealth } from "../../shared/health/model";

const H = 3600;
const D = 24 * H;
const at = (iso: string) => new Date(iso);
/** COMPLETE backups every `gap` seconds, the newest at `newest`. */
function history(newest: string, count: number, gap = D): { id: string; createdAt: string }[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `b${i}`,
    createdAt: new Date(Date.parse(newest) - i * gap * 1000).toISOString(),
  }));
}
function input(overrides: Partial<HealthInput> & { now: Date }): HealthInput {
  return { source: "db", complete: [], stored: emptyHealth("db"), repository: null, ...overrides };
}

describe("durations", () => {
  it("reads 24h, 90m, 2d, 1w, 45s and parts together", () => {
    expect(parseDuration("24h")).toBe(24 * H);
    expect(parseDuration("90m")).toBe(90 * 60);
    expect(parseDuration("2d")).toBe(2 * D);
    expect(parseDuration("1w")).toBe(7 * D);
    expect(parseDuration("1h30m")).toBe(90 * 60);
    expect(parseDuration("45s")).toBe(45);
  });

  it("refuses what is not one", () => {
    for (const text of ["", "24", "1.5h", "h", "2x", "0h", "-1h", "24h and more"]) {
      expect(() => parseDuration(text), text).toThrow(/duration|longer than 0/);
    }
  });

  it("says durations with their two largest units", () => {
    expect(formatDuration(30)).toBe("30s");
    expect(formatDuration(90 * 60)).toBe("1h30m");
    expect(formatDuration(D)).toBe("1d");
    expect(formatDuration(D + 2 * H + 5 * 60)).toBe("1d2h");
    expect(formatDuration(2 * H + 24 * 60)).toBe("2h24m");
  });
});

describe("inferring an expectation from history", () => {
  it("takes the median gap between consecutive COMPLETE backups, with the default grace", () => {
    expect(inferExpectation(history("2026-01-10T02:00:00Z", 5).map((b) => b.createdAt))).toEqual({
      every: D,
      graceSeconds: defaultGraceSeconds(D),
    });
    // One long gap (a weekend off) does not move the median.
    const times = ["2026-01-01T02:00:00Z", "2026-01-02T02:00:00Z", "2026-01-03T02:00:00Z", "2026-01-07T02:00:00Z"];
    expect(inferExpectation(times)?.every).toBe(D);
  });

  it("averages the two middle gaps of an even count, whatever the order given", () => {
    expect(median([3, 1, 4, 2])).toBe(2.5);
    const times = ["2026-01-01T06:00:00Z", "2026-01-01T00:00:00Z", "2026-01-01T02:00:00Z"];
    expect(inferExpectation(times)?.every).toBe(3 * H);
  });

  it("needs three COMPLETE backups, and counts backups under a minute apart as one run", () => {
    expect(inferExpectation(["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"])).toBeUndefined();
    const runs = ["2026-01-01T00:00:00Z", "2026-01-01T00:00:20Z", "2026-01-02T00:00:00Z"];
    expect(inferExpectation(runs)).toBeUndefined();
    expect(inferExpectation([...runs, "2026-01-03T00:00:00Z", "2026-01-03T00:00:30Z"])?.every).toBe(D);
  });

  it("gives a grace of max(1h, 10% of the interval)", () => {
    expect(defaultGraceSeconds(H)).toBe(H);
    expect(defaultGraceSeconds(D)).toBe(2.4 * H);
    expect(defaultGraceSeconds(7 * D)).toBe(16.8 * H);
  });
});

describe("cron expectations", () => {
  const berlin = { cron: "0 2 * * *", timeZone: "Europe/Berlin", graceSeconds: 2 * H };

  it("is due at the next cron time in its zone, across the spring change (02:00 does not exist: 03:00)", () => {
    // 2026-03-29: Berlin goes from CET (UTC+1) to CEST (UTC+2) at 02:00, which becomes 03:00.
    expect(nextDue(berlin, at("2026-03-28T01:00:05Z")).toISOString()).toBe("2026-03-29T01:00:00.000Z");
    expect(nextDue(berlin, at("2026-03-29T01:00:05Z")).toISOString()).toBe("2026-03-30T00:00:00.000Z");
  });

  it("is due once on the autumn change, when 02:00 comes twice", () => {
    // 2026-10-25: CEST → CET at 03:00, which becomes 02:00 again.
    expect(nextDue(berlin, at("2026-10-24T00:00:05Z")).toISOString()).toBe("2026-10-25T00:00:00.000Z");
    expect(nextDue(berlin, at("2026-10-25T00:00:05Z")).toISOString()).toBe("2026-10-26T01:00:00.000Z");
  });

  it("judges a nightly source UP, LATE and STALE on the right side of each change", () => {
    const stored = { ...emptyHealth("db"), settings: { expectation: berlin, remindEverySeconds: null, setAt: null } };
    const complete = [{ id: "sat", createdAt: "2026-03-28T01:00:05Z" }];
    const state = (now: string) => judgeHealth(input({ complete, stored, now: at(now) })).state;
    // Sunday's 02:00 CET run is 03:00 CEST = 01:00Z; without DST awareness it would be due at 02:00Z.
    expect(state("2026-03-29T00:59:00Z")).toBe("UP");
    expect(state("2026-03-29T01:30:00Z")).toBe("LATE");
    expect(state("2026-03-29T03:01:00Z")).toBe("STALE");
    // Monday's run, the first in summer time: 02:00 CEST = 00:00Z.
    const sunday = [{ id: "sun", createdAt: "2026-03-29T01:00:10Z" }];
    const monday = (now: string) => judgeHealth(input({ complete: sunday, stored, now: at(now) })).state;
    expect(monday("2026-03-29T23:59:00Z")).toBe("UP");
    expect(monday("2026-03-30T00:30:00Z")).toBe("LATE");
    expect(monday("2026-03-30T02:00:01Z")).toBe("STALE");
  });

  it("counts a backup taken a little before its cron time for it", () => {
    expect(nextDue(berlin, at("2026-01-10T00:58:00Z")).toISOString()).toBe("2026-01-11T01:00:00.000Z");
    // Every five minutes: at most a quarter of the gap early.
    const often = { cron: "*/5 * * * *", timeZone: "UTC", graceSeconds: H };
    expect(nextDue(often, at("2026-01-10T00:03:00Z")).toISOString()).toBe("2026-01-10T00:05:00.000Z");
    expect(nextDue(often, at("2026-01-10T00:04:00Z")).toISOString()).toBe("2026-01-10T00:10:00.000Z");
  });

  it("takes a schedule's usual gap for its default grace, and refuses bad expressions and zones", () => {
    expect(cronPeriodSeconds("0 2 * * 1-5", "Europe/Berlin", at("2026-01-09T12:00:00Z"))).toBe(D);
    expect(ExpectationSchema.safeParse({ ...berlin, timeZone: "Mars/Olympus" }).success).toBe(false);
    expect(ExpectationSchema.safeParse({ ...berlin, cron: "61 2 * * *" }).success).toBe(false);
    expect(describeExpectation(berlin)).toBe("0 2 * * * Europe/Berlin + 2h grace");
    expect(describeExpectation({ every: D, graceSeconds: 2 * H })).toBe("every 1d + 2h grace");
  });
});

describe("evaluating a source", () => {
  const complete = history("2026-01-10T02:00:00Z", 5);
  /** Evaluates at each time in turn, recording each decision as the store would. */
  function walk(times: string[], start: StoredHealth = emptyHealth("db"), backups = complete) {
    let stored = start;
    return times.map((now) => {
      const decision = evaluateHealth(input({ complete: backups, stored, now: at(now) }));
      stored = { ...stored, status: decision.next };
      return decision;
    });
  }

  it("goes UP → LATE → STALE as time passes, telling each change once, then reminds every N hours", () => {
    const decisions = walk([
      "2026-01-10T12:00:00Z",
      "2026-01-11T01:00:00Z",
      "2026-01-11T02:05:00Z",
      "2026-01-11T03:00:00Z",
      "2026-01-11T04:30:00Z",
      "2026-01-11T05:00:00Z",
      "2026-01-12T04:29:00Z",
      "2026-01-12T04:31:00Z",
      "2026-01-12T05:00:00Z",
    ]);
    expect(decisions.map((d) => [d.verdict.state, d.notify])).toEqual([
      ["UP", null],
      ["UP", null],
      ["LATE", "source-late"],
      ["LATE", null],
      ["STALE", "source-stale"],
      ["STALE", null],
      ["STALE", null],
      ["STALE", "source-stale-reminder"],
      ["STALE", null],
    ]);
    // LATE since the due time, STALE since due + grace (2h24m), down since the due time throughout.
    expect(decisions[2]?.next).toMatchObject({
      since: "2026-01-11T02:00:00.000Z",
      downSince: "2026-01-11T02:00:00.000Z",
    });
    expect(decisions[4]?.next).toMatchObject({
      since: "2026-01-11T04:24:00.000Z",
      downSince: "2026-01-11T02:00:00.000Z",
    });
    expect(decisions[7]?.next).toMatchObject({ reminders: 1, lastReminderAt: "2026-01-12T04:31:00.000Z" });
  });

  it("tells a recovery when a new COMPLETE backup arrives, with how long it was down", () => {
    const [, stale] = walk(["2026-01-10T12:00:00Z", "2026-01-12T00:00:00Z"]);
    const back = evaluateHealth(
      input({
        complete: [{ id: "new", createdAt: "2026-01-12T01:00:00Z" }, ...complete],
        stored: { ...emptyHealth("db"), status: stale?.next ?? null },
        now: at("2026-01-12T02:00:00Z"),
      }),
    );
    expect(back.transition).toEqual({ from: "STALE", to: "UP" });
    expect(back.notify).toBe("source-recovered");
    const alert = healthAlert(back, null, at("2026-01-12T02:00:00Z"));
    expect(alert?.alert.message).toContain("back to normal, down for 1d");
    expect(alert?.alert.details).toMatchObject({ downSince: "2026-01-11T02:00:00.000Z", downForSeconds: D });
  });

  it("raises nothing for a paused source, and counts a resumed one's next backup from its resumption", () => {
    const paused = { ...emptyHealth("db"), paused: true };
    const [p] = walk(["2026-01-20T00:00:00Z"], paused);
    expect(p?.verdict.state).toBe("PAUSED");
    expect(p?.notify).toBeNull();
    const resumed = { ...emptyHealth("db"), resumedAt: "2026-01-20T00:00:00Z", status: p?.next ?? null };
    const [r] = walk(["2026-01-20T01:00:00Z"], resumed);
    expect(r?.transition).toEqual({ from: "PAUSED", to: "UP" });
    expect(r?.notify).toBeNull();
    expect(r?.verdict.dueAt).toBe("2026-01-21T00:00:00.000Z");
  });

  it("is NEW with too little history and no expectation set, and judged by one set or its repository's", () => {
    const two = history("2026-01-10T02:00:00Z", 2);
    expect(judgeHealth(input({ complete: two, now: at("2026-02-01T00:00:00Z") })).state).toBe("NEW");
    const every = { expectation: { every: H, graceSeconds: H }, remindEverySeconds: 6 * H, setAt: null };
    const byRepository = judgeHealth(input({ complete: two, repository: every, now: at("2026-01-10T03:30:00Z") }));
    expect(byRepository).toMatchObject({ state: "LATE", remindEverySeconds: 6 * H });
    expect(byRepository.expectation?.origin).toBe("repository");
    const own = { ...emptyHealth("db"), settings: { ...every, expectation: { every: D, graceSeconds: H } } };
    const bySource = judgeHealth(
      input({ complete: two, stored: own, repository: every, now: at("2026-01-10T03:30:00Z") }),
    );
    expect(bySource.expectation?.origin).toBe("source");
    expect(bySource.state).toBe("UP");
    // Set, but no COMPLETE backup yet: due counting from when it was set.
    const fresh = { ...emptyHealth("db"), settings: { ...every, setAt: "2026-01-10T00:00:00Z" } };
    expect(judgeHealth(input({ stored: fresh, now: at("2026-01-10T00:30:00Z") })).state).toBe("UP");
    expect(judgeHealth(input({ stored: fresh, now: at("2026-01-10T03:00:00Z") })).state).toBe("STALE");
  });

  it("tells entering LATE or STALE and leaving them for UP, nothing else", () => {
    expect(notificationFor(null, "STALE")).toBe("source-stale");
    expect(notificationFor("NEW", "UP")).toBeNull();
    expect(notificationFor("STALE", "LATE")).toBeNull();
    expect(notificationFor("LATE", "UP")).toBe("source-recovered");
    expect(notificationFor("STALE", "PAUSED")).toBeNull();
    expect(notificationFor("PAUSED", "UP")).toBeNull();
  });

  it("puts what the notifier needs in the alert's details, and keys it by source, state and since", () => {
    const [, late] = walk(["2026-01-10T12:00:00Z", "2026-01-11T03:00:00Z"]);
    const proven = { backupId: "b2", drillId: "d1", at: "2026-01-09T05:00:00.000Z", rtoSeconds: 420 };
    const alert = healthAlert(late as NonNullable<typeof late>, proven, at("2026-01-11T03:00:00Z"));
    expect(alert?.once).toBe("health|db|LATE|2026-01-11T02:00:00.000Z");
    expect(alert?.alert).toMatchObject({ kind: "source-late", subject: "db is LATE" });
    expect(alert?.alert.details).toMatchObject({
      source: "db",
      state: "LATE",
      lastBackupAt: "2026-01-10T02:00:00.000Z",
      ageSeconds: 25 * H,
      expectation: "every 1d + 2h24m grace",
      expectationOrigin: "inferred",
      lastProvenRestorable: { at: proven.at, backupId: "b2" },
      rtoSeconds: 420,
    });
  });
});
