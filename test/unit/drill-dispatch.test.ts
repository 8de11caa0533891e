import { describe, expect, it } from "vitest";
import { dispatchDueDrills, dueAt } from "../../shared/drills/dispatch";
import { DrillPlanSchema } from "../../shared/drills/plan";
import type { StoredPlan } from "../../shared/drills/ports";
import type { DrillRequest } from "../../shared/drills/prepare";
import { selectBackup } from "../../shared/drills/select";
import { silentLog } from "../../shared/log";
import type { PruneState, ResticRepository } from "../../shared/restic/repository";

/** Repositories with DynamoDB's guarantee for claimPrune: the check and the write are one step. */
function repositories(prunes: Record<string, PruneState | null> = {}) {
  const state = new Map(Object.entries(prunes));
  return {
    list: async () => [...state.entries()].map(([name, prune]) => ({ name, prune }) as unknown as ResticRepository),
    claimPrune: async (name: string, at: Date) => {
      const prune = state.get(name);
      if (!prune?.requestedAt || (prune.startedAt && prune.startedAt >= prune.requestedAt)) return false;
      state.set(name, { ...prune, startedAt: at.toISOString() });
      return true;
    },
    request: (name: string, at: string) => {
      const prune = state.get(name) ?? { requestedAt: null, startedAt: null, last: null };
      state.set(name, { ...prune, requestedAt: at });
    },
  };
}

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
      repositories: repositories(),
      start: async (request: { source: string }) => void started.push(request.source),
      log: silentLog,
      now: () => new Date("2027-01-01T01:10:00Z"),
    };
    await Promise.all([dispatchDueDrills(deps), dispatchDueDrills(deps)]);
    await dispatchDueDrills(deps);
    expect(started).toEqual(["db"]);
  });

  it("starts restic prune once for each repository whose snapshots retention forgot since its last prune", async () => {
    const store = repositories({
      workspaces: { requestedAt: "2027-01-01T00:00:00.000Z", startedAt: null, last: null },
      pruned: { requestedAt: "2026-12-01T00:00:00.000Z", startedAt: "2026-12-01T00:05:00.000Z", last: null },
      untouched: null,
    });
    const started: DrillRequest[] = [];
    let now = new Date("2027-01-01T01:10:00Z");
    const deps = {
      drills: { listPlans: async () => [], claimDue: async () => false },
      repositories: store,
      start: async (request: DrillRequest) => void started.push(request),
      log: silentLog,
      now: () => now,
    };
    await Promise.all([dispatchDueDrills(deps), dispatchDueDrills(deps)]);
    await dispatchDueDrills(deps);
    expect(started.map(({ source, job, repository }) => ({ source, job, repository }))).toEqual([
      { source: "prune:workspaces", job: "prune", repository: "workspaces" },
    ]);
    // Retention forgets again: the next run prunes again.
    store.request("workspaces", "2027-01-01T02:00:00.000Z");
    now = new Date("2027-01-01T02:05:00Z");
    await dispatchDueDrills(deps);
    expect(started).toHaveLength(2);
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
