import { describe, expect, it } from "vitest";
import { dispatchDueDrills, dueAt } from "../../shared/drills/dispatch";
import { DrillPlanSchema } from "../../shared/drills/plan";
import type { StoredPlan } from "../../shared/drills/ports";
import { selectBackup } from "../../shared/drills/select";
import { silentLog } from "../../shared/log";

const monthly = DrillPlanSchema.parse({
  schedule: { cron: "0 2 1 * *", timeZone: "Europe/Berlin", startWindowHours: 4 },
});

describe("when a scheduled drill is due", () => {
  it("is due from its cron time in the plan's zone until its start window closes", () => {
    // 02:00 in Berlin on 1 January is 01:00 UTC.
    expect(dueAt(monthly, new Date("2027-01-01T00:59:00Z"))).toBeUndefined();
    expect(dueAt(monthly, new Date("2027-01-01T01:00:00Z"))?.toISOString()).toBe("2027-01-01T01:00:00.000Z");
    expect(dueAt(monthly, new Date("2027-01-01T04:59:00Z"))?.toISOString()).toBe("2027-01-01T01:00:00.000Z");
    expect(dueAt(monthly, new Date("2027-01-01T05:00:01Z"))).toBeUndefined();
  });

  it("starts each due drill once, however many dispatchers run", async () => {
    const plans: StoredPlan[] = [{ source: "db", plan: monthly, lastDueAt: null }];
    const started: string[] = [];
    const deps = {
      drills: {
        listPlans: async () => plans,
        claimDue: async (source: string, due: string) => {
          const stored = plans.find((p) => p.source === source) as StoredPlan;
          if (stored.lastDueAt && stored.lastDueAt >= due) return false;
          stored.lastDueAt = due;
          return true;
        },
      },
      start: async (request: { source: string }) => void started.push(request.source),
      log: silentLog,
      now: () => new Date("2027-01-01T01:10:00Z"),
    };
    await Promise.all([dispatchDueDrills(deps), dispatchDueDrills(deps)]);
    await dispatchDueDrills(deps);
    expect(started).toEqual(["db"]);
  });

  it("refuses a cron expression it cannot read, naming it", () => {
    expect(() => DrillPlanSchema.parse({ schedule: { cron: "every day" } })).toThrow(/schedule/);
  });
});

describe("which backup a drill restores", () => {
  const entry = (id: string, day: number, status = "COMPLETE") =>
    ({ id, kind: "restic", status, createdAt: `2026-12-${String(day).padStart(2, "0")}T02:00:00.000Z` }) as never;
  const entries = [entry("a", 1), entry("b", 2), entry("c", 3, "CORRUPT"), entry("d", 1, "COMPLETE")];
  const now = new Date("2026-12-03T12:00:00Z");

  it("takes the newest COMPLETE backup within the window (LATEST), or any of them (RANDOM)", () => {
    expect(selectBackup(entries, { mode: "LATEST", withinDays: 30 }, now)?.id).toBe("b");
    expect(selectBackup(entries, { mode: "RANDOM", withinDays: 30 }, now, () => 0.99)?.id).toBe("d");
    expect(selectBackup(entries, { mode: "LATEST", withinDays: 1 }, now)).toBeUndefined();
  });
});
