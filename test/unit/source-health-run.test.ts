import { describe, expect, it } from "vitest";
import type { AlertStore, NewAlert } from "../../shared/catalog/alerts";
import type { BackupEntry, SourceEntry } from "../../shared/catalog/entry";
import {
  emptyHealth,
  type HealthHistory,
  type HealthSettings,
  NO_SETTINGS,
  type StoredHealth,
} from "../../shared/health/model";
import type { HealthScope, HealthStore } from "../../shared/health/ports";
import { evaluateSources, type HealthRunDependencies } from "../../shared/health/run";
import { silentLog } from "../../shared/log";

const D = 86_400_000;
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A health store with DynamoDB's guarantee: a conditional write checks and writes in one step. */
class MemoryHealthStore implements HealthStore {
  readonly items = new Map<string, StoredHealth>();
  readonly repositories = new Map<string, HealthSettings>();
  async list() {
    await tick();
    return [...this.items.values()].map((item) => structuredClone(item));
  }
  async get(source: string) {
    await tick();
    const item = this.items.get(source);
    return item ? structuredClone(item) : undefined;
  }
  async listRepositories() {
    return new Map(this.repositories);
  }
  async getSettings(scope: HealthScope) {
    return scope.kind === "source" ? this.items.get(scope.source)?.settings : this.repositories.get(scope.repository);
  }
  async putSettings(scope: HealthScope, changes: Partial<HealthSettings>) {
    if (scope.kind === "repository") {
      const next = { ...(this.repositories.get(scope.repository) ?? NO_SETTINGS), ...changes };
      this.repositories.set(scope.repository, next);
      return next;
    }
    const item = this.items.get(scope.source) ?? emptyHealth(scope.source);
    item.settings = { ...item.settings, ...changes };
    this.items.set(scope.source, item);
    return item.settings;
  }
  async setPaused(source: string, paused: boolean, at: Date) {
    const item = this.items.get(source) ?? emptyHealth(source);
    this.items.set(source, { ...item, paused, ...(paused ? {} : { resumedAt: at.toISOString() }) });
  }
  recordStatus: HealthStore["recordStatus"] = async (source, previous, next, pending) => {
    await tick();
    const item = this.items.get(source) ?? emptyHealth(source);
    const current = item.status;
    const same = previous
      ? current?.state === previous.state &&
        current.since === previous.since &&
        current.reminders === previous.reminders
      : current === null;
    if (!same) return false;
    this.items.set(source, { ...item, status: next, pending });
    return true;
  };
  async recordHistory(source: string, history: HealthHistory) {
    const item = this.items.get(source) ?? emptyHealth(source);
    this.items.set(source, { ...item, history });
  }
  async clearPending(source: string, once: string) {
    const item = this.items.get(source);
    if (item?.pending?.once === once) item.pending = null;
  }
}

class MemoryAlerts implements Pick<AlertStore, "raiseOnce"> {
  readonly raised = new Map<string, NewAlert>();
  calls = 0;
  failNext = false;
  async raiseOnce(once: string, alert: NewAlert) {
    this.calls++;
    if (this.failNext) {
      this.failNext = false;
      throw new Error("the run stopped here");
    }
    if (this.raised.has(once)) return undefined;
    this.raised.set(once, alert);
    return { ...alert, id: once, at: new Date().toISOString(), sentAt: null };
  }
}

function world(sourceCount: number, newest: Date) {
  const sources: SourceEntry[] = [];
  const backups = new Map<string, BackupEntry[]>();
  for (let s = 0; s < sourceCount; s++) {
    const source = `db-${s}`;
    const list = Array.from({ length: 4 }, (_, i) => {
      const createdAt = new Date(newest.getTime() - i * D).toISOString();
      return { id: `${source}-${i}`, source, createdAt, status: "COMPLETE", kind: "dumpset" } as BackupEntry;
    });
    backups.set(source, list);
    const latest = { id: `${source}-0`, createdAt: newest.toISOString(), status: "COMPLETE" as const };
    sources.push({
      source,
      kind: "dumpset",
      latest,
      latestComplete: latest,
      lastProvenRestorable: null,
      updatedAt: "",
    });
  }
  const health = new MemoryHealthStore();
  const alerts = new MemoryAlerts();
  const clock = { now: new Date(newest.getTime() + 3_600_000) };
  const timelineReads: string[] = [];
  const deps: HealthRunDependencies = {
    catalog: {
      listSources: async () => sources,
      listBySource: async (source) => {
        timelineReads.push(source);
        await tick();
        return backups.get(source) ?? [];
      },
    },
    health,
    alerts,
    log: silentLog,
    now: () => clock.now,
  };
  return { deps, health, alerts, clock, sources, backups, timelineReads };
}

describe("evaluating every source", () => {
  it("of two concurrent runs, lets only the one whose conditional write succeeds record and raise", async () => {
    const { deps, health, alerts, clock } = world(10, new Date("2026-03-10T02:00:00Z"));
    for (const [step, raised] of [
      [0, 0],
      [D, 10],
      [2 * D, 20],
    ] as const) {
      clock.now = new Date(clock.now.getTime() + step);
      const [first, second] = await Promise.all([evaluateSources(deps), evaluateSources(deps)]);
      const results = [...first.sources, ...second.sources];
      expect(results.filter((result) => result.transition && !result.lostRace)).toHaveLength(10);
      expect(results.filter((result) => result.lostRace)).toHaveLength(10);
      expect(alerts.calls).toBe(raised);
    }
    expect([...alerts.raised.values()].map((alert) => alert.kind).sort()).toEqual([
      ...Array(10).fill("source-late"),
      ...Array(10).fill("source-stale"),
    ]);
    expect([...health.items.values()].every((item) => item.pending === null)).toBe(true);
  });

  it("raises an alert recorded by a run that stopped before raising it, at the next run", async () => {
    const { deps, health, alerts, clock } = world(1, new Date("2026-03-10T02:00:00Z"));
    await evaluateSources(deps);
    clock.now = new Date(clock.now.getTime() + D);
    alerts.failNext = true;
    expect((await evaluateSources(deps)).failed).toEqual([{ source: "db-0", error: "the run stopped here" }]);
    expect(health.items.get("db-0")?.pending?.alert.kind).toBe("source-late");
    expect(alerts.raised.size).toBe(0);

    await evaluateSources(deps);
    expect([...alerts.raised.values()].map((alert) => alert.kind)).toEqual(["source-late"]);
    expect(health.items.get("db-0")?.pending).toBeNull();
    await evaluateSources(deps);
    expect(alerts.raised.size).toBe(1);
  });

  it("reads a source's timeline again only when its summary changed or what it kept is a day old", async () => {
    const { deps, health, clock, sources, backups, timelineReads } = world(2, new Date("2026-03-10T02:00:00Z"));
    await evaluateSources(deps);
    expect(timelineReads.sort()).toEqual(["db-0", "db-1"]);
    expect(health.items.get("db-0")?.history?.complete).toHaveLength(4);

    timelineReads.length = 0;
    clock.now = new Date(clock.now.getTime() + 5 * 60_000);
    expect((await evaluateSources(deps)).sources.map((result) => result.verdict.state)).toEqual(["UP", "UP"]);
    expect(timelineReads).toEqual([]);

    // A new backup of db-1 changes its summary: its timeline alone is read again, and the new backup counts.
    const arrived = { id: "db-1-new", createdAt: clock.now.toISOString(), status: "COMPLETE" as const };
    backups.get("db-1")?.unshift({ ...arrived, source: "db-1", kind: "dumpset" } as BackupEntry);
    sources[1] = { ...(sources[1] as SourceEntry), latest: arrived, latestComplete: arrived, updatedAt: "later" };
    await evaluateSources(deps);
    expect(timelineReads).toEqual(["db-1"]);
    expect(health.items.get("db-1")?.history?.complete.map((backup) => backup.id)).toContain("db-1-new");

    // An older backup removed does not touch the summary: the next read a day later sees it.
    backups.get("db-0")?.pop();
    timelineReads.length = 0;
    clock.now = new Date(clock.now.getTime() + D - 10 * 60_000);
    await evaluateSources(deps);
    expect(timelineReads).toEqual([]);
    clock.now = new Date(clock.now.getTime() + 20 * 60_000);
    await evaluateSources(deps);
    expect(timelineReads.sort()).toEqual(["db-0", "db-1"]);
    expect(health.items.get("db-0")?.history?.complete).toHaveLength(3);
  });

  it("judges without recording or raising when dry (sources check --now, sources list)", async () => {
    const { deps, health, alerts, clock } = world(3, new Date("2026-03-10T02:00:00Z"));
    clock.now = new Date(clock.now.getTime() + 5 * D);
    const report = await evaluateSources(deps, { dryRun: true });
    expect(report.sources.map((result) => [result.verdict.state, result.alert?.kind])).toEqual(
      Array(3).fill(["STALE", "source-stale"]),
    );
    expect(health.items.size).toBe(0);
    expect(alerts.calls).toBe(0);
  });
});
