import { describe, expect, it } from "vitest";
import type { BackupEntry } from "../../shared/catalog/entry";
import { DEFAULT_SAFETY_FLOORS, type SafetyFloors } from "../../shared/retention/settings";
import { asResticForgetGroup, diffPlans, planSource } from "../../shared/retention/source-plan";

const now = new Date("2025-03-01T12:00:00Z");

function dailySets(
  days: number,
  options: { tags?: (day: number) => string[]; status?: (day: number) => BackupEntry["status"] } = {},
): BackupEntry[] {
  return Array.from({ length: days }, (_, index) => {
    const day = index + 1;
    const createdAt = new Date(now.getTime() - day * 86_400_000).toISOString();
    return {
      kind: "dumpset",
      id: `set-${String(day).padStart(3, "0")}`,
      source: "db",
      createdAt,
      status: options.status?.(day) ?? "COMPLETE",
      statusReason: null,
      statusChangedAt: createdAt,
      hostname: "db1",
      tags: options.tags?.(day) ?? [],
      sizeBytes: 1,
      lastDrill: null,
      indexedAt: createdAt,
      manifestKey: "k",
      manifestVersion: null,
      serverVersion: null,
      masterKeyId: null,
      masterKeyHeld: null,
      components: [],
      problems: [],
    } satisfies BackupEntry;
  });
}

const floors = (overrides: Partial<SafetyFloors> = {}): SafetyFloors => ({
  ...DEFAULT_SAFETY_FLOORS,
  maxRemovalFraction: 1,
  protectNewerThanHours: 0,
  ...overrides,
});

const ids = (items: { id: string }[]) => items.map((item) => item.id);

describe("safety floors over a restic policy", () => {
  it("keeps the newest complete backups even when the policy would not", () => {
    const entries = dailySets(10, { status: (day) => (day <= 2 ? "CORRUPT" : "COMPLETE") });
    const plan = planSource({
      source: "db",
      kind: "dumpset",
      entries,
      policy: { keepYearly: 1 },
      floors: floors({ keepNewestComplete: 3 }),
      now,
    });

    expect(ids(plan.keep)).toEqual(["set-003", "set-004", "set-005"]);
    expect(plan.keep.find((item) => item.id === "set-004")?.reasons).toEqual([
      "safety floor: one of the newest 3 complete backups",
    ]);
    expect(plan.keep.find((item) => item.id === "set-003")?.reasons).toContain("yearly snapshot");
    expect(plan.untouched).toEqual([
      { id: "set-001", status: "CORRUPT" },
      { id: "set-002", status: "CORRUPT" },
    ]);
  });

  it("never removes a backup on legal hold, nor the newest with a passing drill", () => {
    const entries = dailySets(10, { tags: (day) => (day === 9 ? ["legal-hold"] : []) });
    const plan = planSource({
      source: "db",
      kind: "dumpset",
      entries,
      policy: { keepLast: 1 },
      floors: floors({ keepNewestComplete: 0 }),
      newestDrillPassed: "set-006",
      now,
    });

    expect(ids(plan.keep)).toEqual(["set-001", "set-006", "set-009"]);
    expect(plan.keep.find((item) => item.id === "set-009")?.reasons).toEqual([
      "safety floor: legal hold (tag legal-hold)",
    ]);
    expect(plan.keep.find((item) => item.id === "set-006")?.reasons).toEqual([
      "safety floor: newest backup with a passing restore drill",
    ]);
  });

  it("refuses a run that would remove more than the allowed share of a source", () => {
    const plan = planSource({
      source: "db",
      kind: "dumpset",
      entries: dailySets(10),
      policy: { keepLast: 2 },
      floors: floors({ keepNewestComplete: 0, maxRemovalFraction: 0.5 }),
      now,
    });
    expect(plan.status).toBe("REFUSED");
    expect(plan.refusal).toBe("would remove 8 of 10 complete backups (80%), more than the 50% allowed");
  });

  it("refuses a run that would remove a backup younger than the protected age", () => {
    const plan = planSource({
      source: "db",
      kind: "dumpset",
      entries: dailySets(4),
      policy: { keepWithin: "1d" },
      floors: floors({ keepNewestComplete: 0, protectNewerThanHours: 72 }),
      now,
    });
    expect(plan.status).toBe("REFUSED");
    expect(plan.refusal).toBe("would remove 1 backup younger than 72 h (set-002)");
  });

  it("shows the bare policy when the floors are off", () => {
    const plan = planSource({
      source: "db",
      kind: "dumpset",
      entries: dailySets(10),
      policy: { keepLast: 1 },
      floors: null,
      now,
    });
    expect(plan.status).toBe("OK");
    expect(ids(plan.keep)).toEqual(["set-001"]);
    expect(plan.remove).toHaveLength(9);
  });

  it("keeps everything of a source without a policy", () => {
    const plan = planSource({
      source: "ws",
      kind: "restic",
      entries: dailySets(3),
      policy: undefined,
      floors: floors(),
      now,
    });
    expect(plan.status).toBe("NO_POLICY");
    expect(plan.remove).toEqual([]);
  });

  it.each([
    ["--keep-last 0", { keepLast: 0 }],
    ["--keep-daily 0", { keepDaily: 0 }],
    ["--keep-within 0d", { keepWithin: "0d" }],
    ["every count 0 and within 0d0h", { keepLast: 0, keepHourly: 0, keepYearly: 0, keepWithinDaily: "0d0h" }],
    ["an empty keep-tag list", { keepTags: [] }],
  ])("removes nothing under a policy of zeros (%s), floors or not, as restic refuses it", (_, policy) => {
    for (const withFloors of [floors(), null]) {
      const plan = planSource({
        source: "db",
        kind: "dumpset",
        entries: dailySets(5),
        policy,
        floors: withFloors,
        now,
      });
      expect(plan.status).toBe("NO_POLICY");
      expect(plan.refusal).toBe("no policy was specified, no snapshots will be removed");
      expect(plan.remove).toEqual([]);
      expect(plan.keep).toHaveLength(5);
    }
  });

  it("refuses a policy that would keep none of a source's backups even without floors", () => {
    const plan = planSource({
      source: "db",
      kind: "dumpset",
      entries: dailySets(4),
      policy: { keepTags: [["no-such-tag"]] },
      floors: null,
      now,
    });
    expect(plan.status).toBe("REFUSED");
    expect(plan.refusal).toMatch(/refusing to delete last snapshot of source db/);
  });

  it("prints in the shape of restic forget --json and diffs against the previous plan", () => {
    const entries = dailySets(6);
    const first = planSource({
      source: "db",
      kind: "dumpset",
      entries: entries.slice(1),
      policy: { keepLast: 3 },
      floors: null,
      now,
    });
    const second = planSource({ source: "db", kind: "dumpset", entries, policy: { keepLast: 3 }, floors: null, now });

    const group = asResticForgetGroup(second);
    expect(Object.keys(group)).toEqual(["tags", "host", "paths", "source", "keep", "remove", "reasons"]);
    expect(group.keep[0]).toEqual({ id: "set-001", short_id: "set-001", time: entries[0]?.createdAt });
    expect(group.reasons[0]).toEqual({ snapshot: group.keep[0], matches: ["last snapshot"] });
    expect(diffPlans(first, second)).toEqual({
      newlyRemoved: ["set-004"],
      noLongerRemoved: [],
      newBackups: ["set-001"],
    });
  });
});
