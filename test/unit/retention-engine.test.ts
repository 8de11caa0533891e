import { describe, expect, it } from "vitest";
import { applyPolicy, planRetention, type RetentionItem } from "../../shared/retention/engine";
import {
  EmptyRetentionPolicyError,
  InvalidRetentionPolicyError,
  InvalidSnapshotTimeError,
  RetentionWouldRemoveAllError,
} from "../../shared/retention/errors";
import { DEFAULT_DUMPSET_POLICY, type RetentionPolicy } from "../../shared/retention/policy";
import { RESTIC_GOLDEN_CASES, RESTIC_GOLDEN_SNAPSHOTS } from "../support/retention-restic-golden";

function item(id: string, time: string, extra: Partial<RetentionItem> = {}): RetentionItem {
  return { id, time, ...extra };
}

function keptIds(items: RetentionItem[], policy: RetentionPolicy, now?: Date): string[] {
  return applyPolicy(items, policy, now ? { now } : {}).keep.map((kept) => kept.id);
}

function matchesOf(items: RetentionItem[], policy: RetentionPolicy): Record<string, string[]> {
  return Object.fromEntries(applyPolicy(items, policy).reasons.map((reason) => [reason.snapshot.id, reason.matches]));
}

/** One snapshot a day at 10:00 UTC, newest first, from `last` back `count` days. */
function daily(count: number, last = "2024-06-30"): RetentionItem[] {
  const end = Date.parse(`${last}T10:00:00Z`);
  return Array.from({ length: count }, (_, day) => {
    const time = new Date(end - day * 86_400_000).toISOString();
    return item(time.slice(0, 10), time);
  });
}

describe("the engine agrees with restic's own ApplyPolicy golden files", () => {
  const snapshots = RESTIC_GOLDEN_SNAPSHOTS.map((snapshot, index) => ({ id: String(index), ...snapshot }));
  // Identical snapshots (same time, tags and paths) cannot be told apart in restic's golden files.
  const sameAs = snapshots.map((snapshot) =>
    snapshots.findIndex(
      (other) =>
        other.time === snapshot.time &&
        JSON.stringify(other.tags) === JSON.stringify(snapshot.tags) &&
        JSON.stringify(other.paths) === JSON.stringify(snapshot.paths),
    ),
  );

  it.each(RESTIC_GOLDEN_CASES.map((golden, index) => ({ index, ...golden })))(
    "policy $index: $policy",
    ({ policy, keep }) => {
      const result = applyPolicy(snapshots, policy);
      expect(result.keep.length + result.remove.length).toBe(snapshots.length);
      const actual = result.reasons.map((reason) => [
        sameAs[Number(reason.snapshot.id)],
        reason.matches,
        Object.fromEntries(Object.entries(reason.counters).filter(([, count]) => count !== 0)),
      ]);
      expect(actual).toEqual(keep);
    },
  );
});

describe("calendar buckets", () => {
  it("keeps the newest snapshot of each day, newest days first", () => {
    const items = [
      item("mon-late", "2024-01-01T22:00:00Z"),
      item("mon-early", "2024-01-01T08:00:00Z"),
      item("tue-late", "2024-01-02T22:00:00Z"),
      item("tue-early", "2024-01-02T08:00:00Z"),
      item("wed", "2024-01-03T12:00:00Z"),
    ];
    expect(keptIds(items, { keepDaily: 2 })).toEqual(["wed", "tue-late"]);
  });

  it("keeps the oldest snapshot as well when the count is not used up, so the history stays as long as possible", () => {
    const items = [item("new", "2024-01-02T10:00:00Z"), item("old", "2024-01-02T09:00:00Z")];
    expect(matchesOf(items, { keepDaily: 7 })).toEqual({
      new: ["daily snapshot"],
      old: ["oldest daily snapshot"],
    });
  });

  it("does not keep the oldest snapshot once the count is used up", () => {
    const items = [
      item("a", "2024-01-03T10:00:00Z"),
      item("b", "2024-01-02T10:00:00Z"),
      item("c", "2024-01-02T09:00:00Z"),
    ];
    expect(keptIds(items, { keepDaily: 2 })).toEqual(["a", "b"]);
  });

  it("keeps the oldest snapshot under its ordinary reason when it starts a bucket of its own", () => {
    const items = [item("new", "2024-01-02T10:00:00Z"), item("old", "2024-01-01T10:00:00Z")];
    expect(matchesOf(items, { keepDaily: 7 })).toEqual({ new: ["daily snapshot"], old: ["daily snapshot"] });
  });

  it("unlimited keeps one snapshot per bucket across the whole history and never counts down", () => {
    const items = [
      item("2024", "2024-03-01T00:00:00Z"),
      item("2024-older", "2024-01-01T00:00:00Z"),
      item("2023", "2023-12-31T23:00:00Z"),
      item("1999", "1999-05-05T05:05:05Z"),
    ];
    const result = applyPolicy(items, { keepYearly: "unlimited" });
    expect(result.keep.map((kept) => kept.id)).toEqual(["2024", "2023", "1999"]);
    expect(result.reasons.map((reason) => reason.counters.yearly)).toEqual([-1, -1, -1]);
  });

  it("buckets by the wall clock in each snapshot's own offset, not in UTC", () => {
    // 23:30 at -05:00 is already the next day in UTC, but restic (and we) bucket it on January 1st.
    const items = [item("late-evening", "2024-01-01T23:30:00-05:00"), item("morning", "2024-01-01T09:00:00-05:00")];
    expect(keptIds(items, { keepDaily: 1 })).toEqual(["late-evening"]);
    expect(matchesOf(items, { keepDaily: 2 })).toEqual({
      "late-evening": ["daily snapshot"],
      morning: ["oldest daily snapshot"],
    });
    const sameInstantsInUtc = items.map((each) => ({ ...each, time: new Date(each.time).toISOString() }));
    expect(keptIds(sameInstantsInUtc, { keepDaily: 2 })).toEqual(["late-evening", "morning"]);
    expect(matchesOf(sameInstantsInUtc, { keepDaily: 2 })).toEqual({
      "late-evening": ["daily snapshot"],
      morning: ["daily snapshot"],
    });
  });

  it("uses ISO weeks, which belong to the year of their Thursday, across year boundaries", () => {
    const items = [
      item("2025-w02", "2025-01-06T12:00:00Z"), // Monday of 2025-W02
      item("2025-w01", "2025-01-01T12:00:00Z"), // Wednesday of 2025-W01
      item("2025-w01-in-2024", "2024-12-30T12:00:00Z"), // Monday, still 2025-W01
      item("2024-w52", "2024-12-29T12:00:00Z"), // Sunday of 2024-W52
      item("2020-w53-in-2021", "2021-01-03T12:00:00Z"), // Sunday of 2020-W53
      item("2020-w53", "2020-12-28T12:00:00Z"), // Monday of 2020-W53
      item("2020-w52", "2020-12-27T12:00:00Z"),
    ];
    expect(keptIds(items, { keepWeekly: 5 })).toEqual([
      "2025-w02",
      "2025-w01",
      "2024-w52",
      "2020-w53-in-2021",
      "2020-w52",
    ]);
  });

  it("counts hours, months and years on the same wall clock", () => {
    const items = [
      item("h2", "2024-02-29T02:59:59Z"),
      item("h1-late", "2024-02-29T01:59:00Z"),
      item("h1", "2024-02-29T01:00:00Z"),
      item("jan", "2024-01-31T23:59:59Z"),
      item("dec", "2023-12-31T23:59:59Z"),
    ];
    expect(keptIds(items, { keepHourly: 2 })).toEqual(["h2", "h1-late"]);
    expect(keptIds(items, { keepMonthly: 2 })).toEqual(["h2", "jan"]);
    expect(keptIds(items, { keepYearly: 1 })).toEqual(["h2"]);
  });

  it("lists reasons in restic's order: tags, within, last..yearly, then the within buckets", () => {
    const items = [item("only", "2024-01-01T00:00:00Z", { tags: ["a", "b"] })];
    const policy: RetentionPolicy = {
      keepTags: [["b", "a"], ["c"]],
      keepWithin: "1d1y",
      keepLast: 1,
      keepYearly: 1,
      keepWithinDaily: "1m",
      keepWithinYearly: "2y",
    };
    expect(matchesOf(items, policy)).toEqual({
      only: [
        "has tags [b, a]",
        "within 1y1d",
        "last snapshot",
        "yearly snapshot",
        "daily within 1m",
        "yearly within 2y",
      ],
    });
  });

  it("reports the counters left after each kept snapshot, -1 for unlimited and 0 for rules that are off", () => {
    const result = applyPolicy(daily(3), { keepLast: 1, keepDaily: "unlimited", keepWeekly: 5 });
    expect(result.reasons.map((reason) => reason.counters)).toEqual([
      { last: 0, hourly: 0, daily: -1, weekly: 4, monthly: 0, yearly: 0 },
      { last: 0, hourly: 0, daily: -1, weekly: 4, monthly: 0, yearly: 0 },
      { last: 0, hourly: 0, daily: -1, weekly: 3, monthly: 0, yearly: 0 },
    ]);
  });
});

describe("keep-within", () => {
  it("is measured from the newest snapshot, not from now", () => {
    const items = daily(10, "2015-03-10");
    const farFuture = new Date("2030-01-01T00:00:00Z");
    expect(keptIds(items, { keepWithin: "3d" }, farFuture)).toEqual(["2015-03-10", "2015-03-09", "2015-03-08"]);
  });

  it("keeps only snapshots strictly after the cutoff", () => {
    const items = [item("newest", "2024-01-10T10:00:00Z"), item("exactly-1d", "2024-01-09T10:00:00Z")];
    expect(keptIds(items, { keepWithin: "1d" })).toEqual(["newest"]);
    expect(keptIds(items, { keepWithin: "1d1h" })).toEqual(["newest", "exactly-1d"]);
  });

  it("measures from the newest snapshot that is not in the future", () => {
    const now = new Date("2024-06-01T00:00:00Z");
    const items = [
      item("future", "2030-01-01T00:00:00Z"),
      item("newest-past", "2024-05-31T00:00:00Z"),
      item("within", "2024-05-30T12:00:00Z"),
      item("outside", "2024-05-29T00:00:00Z"),
    ];
    expect(keptIds(items, { keepWithin: "1d" }, now)).toEqual(["future", "newest-past", "within"]);
  });

  it("keeps everything when every snapshot is in the future (restic falls back to the zero time)", () => {
    const now = new Date("2020-01-01T00:00:00Z");
    const items = [item("b", "2024-01-02T00:00:00Z"), item("a", "2021-01-01T00:00:00Z")];
    expect(keptIds(items, { keepWithin: "1h" }, now)).toEqual(["b", "a"]);
  });

  it("subtracts months on the calendar and lets the day overflow as Go's AddDate does", () => {
    // 2023-03-31 minus 1 month is "2023-02-31", which Go normalises to 2023-03-03.
    const items = [
      item("latest", "2023-03-31T12:00:00Z"),
      item("after-cutoff", "2023-03-03T12:00:01Z"),
      item("at-cutoff", "2023-03-03T12:00:00Z"),
      item("february", "2023-02-28T12:00:00Z"),
    ];
    expect(keptIds(items, { keepWithin: "1m" })).toEqual(["latest", "after-cutoff"]);
  });

  it("does calendar arithmetic on the newest snapshot's own wall clock", () => {
    // Newest: 2024-03-01T00:30+02:00, i.e. February 29 22:30 UTC. One month back on its own wall clock is
    // 2024-02-01T00:30+02:00 (January 31 22:30 UTC); on the UTC clock it would be January 29 22:30 UTC.
    const items = [
      item("latest", "2024-03-01T00:30:00+02:00"),
      item("inside", "2024-01-31T22:30:01Z"),
      item("at-cutoff", "2024-01-31T22:30:00Z"),
      item("inside-only-in-utc", "2024-01-30T12:00:00Z"),
    ];
    expect(keptIds(items, { keepWithin: "1m" })).toEqual(["latest", "inside"]);
  });

  it("keeps the stored offset across a daylight saving change, as restic run in UTC does", () => {
    // Berlin: 2024-04-15 12:00 CEST minus 1m is 2024-03-15 12:00 at +02:00 (10:00 UTC). restic run with
    // TZ=Europe/Berlin would resolve that wall time in CET instead (11:00 UTC) and drop the 10:30 UTC one.
    const items = [
      item("latest", "2024-04-15T12:00:00+02:00"),
      item("half-past-eleven-cet", "2024-03-15T11:30:00+01:00"),
      item("half-past-ten-cet", "2024-03-15T10:30:00+01:00"),
    ];
    expect(keptIds(items, { keepWithin: "1m" })).toEqual(["latest", "half-past-eleven-cet"]);
  });

  it("keeps one snapshot per bucket within the duration, and the oldest one within it when a bucket remains", () => {
    const items = [
      item("d3", "2024-01-03T10:00:00Z"),
      item("d2-late", "2024-01-02T20:00:00Z"),
      item("d2-early", "2024-01-02T08:00:00Z"),
      item("d1", "2024-01-01T09:00:00Z"),
    ];
    expect(matchesOf(items, { keepWithinDaily: "5d" })).toEqual({
      d3: ["daily within 5d"],
      "d2-late": ["daily within 5d"],
      d1: ["daily within 5d"],
    });
    const sameDayOldest = [...items.slice(0, 3)];
    expect(matchesOf(sameDayOldest, { keepWithinDaily: "5d" })).toEqual({
      d3: ["daily within 5d"],
      "d2-late": ["daily within 5d"],
      "d2-early": ["oldest daily within 5d"],
    });
  });

  it("treats a zero duration as no rule at all", () => {
    expect(keptIds(daily(3), { keepWithin: "0d", keepLast: 1 })).toEqual([daily(1)[0]?.id]);
  });
});

describe("keep-tag", () => {
  const items = [
    item("ab", "2024-01-05T00:00:00Z", { tags: ["a", "b"] }),
    item("a", "2024-01-04T00:00:00Z", { tags: ["a"] }),
    item("c", "2024-01-03T00:00:00Z", { tags: ["c"] }),
    item("untagged", "2024-01-02T00:00:00Z"),
  ];

  it("keeps a snapshot that has every tag of any one list", () => {
    expect(keptIds(items, { keepTags: [["b", "a"]] })).toEqual(["ab"]);
    expect(keptIds(items, { keepTags: [["a"], ["c"]] })).toEqual(["ab", "a", "c"]);
  });

  it("names each matching list in the reasons, as restic prints a TagList", () => {
    expect(matchesOf(items, { keepTags: [["a"], ["a", "b"]] })).toEqual({
      ab: ["has tags [a]", "has tags [a, b]"],
      a: ["has tags [a]"],
    });
  });

  it("matches snapshots without tags with an empty tag, as `--keep-tag ''` does", () => {
    expect(keptIds(items, { keepTags: [[""]] })).toEqual(["untagged"]);
    // restic stops at the empty tag only for an untagged snapshot, so its position in the list matters.
    expect(keptIds(items, { keepTags: [["a", ""]] })).toEqual([]);
    expect(keptIds(items, { keepTags: [["", "a"]] })).toEqual(["untagged"]);
  });

  it("does not count against any bucket", () => {
    expect(keptIds(items, { keepTags: [["c"]], keepLast: 1 })).toEqual(["ab", "c"]);
  });
});

describe("ties and order", () => {
  it("orders equal times as given, like restic's stable sort, and keeps the first of them", () => {
    const items = [item("first", "2024-01-01T10:00:00Z"), item("second", "2024-01-01T10:00:00Z")];
    expect(matchesOf(items, { keepDaily: 3 })).toEqual({
      first: ["daily snapshot"],
      second: ["oldest daily snapshot"],
    });
    expect(keptIds([...items].reverse(), { keepDaily: 1 })).toEqual(["second"]);
  });

  it("tells snapshots apart by nanoseconds, which a JS Date cannot hold", () => {
    const items = [
      item("earlier", "2024-01-01T10:00:00.000000001Z"),
      item("later", "2024-01-01T10:00:00.000000002Z"),
      item("earliest", "2024-01-01T10:00:00Z"),
    ];
    expect(applyPolicy(items, { keepLast: "unlimited" }).keep.map((kept) => kept.id)).toEqual([
      "later",
      "earlier",
      "earliest",
    ]);
  });

  it("gives the same plan whatever order distinct times arrive in", () => {
    let state = 42;
    const random = () => {
      state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
      return state / 2_147_483_648;
    };
    const start = Date.parse("2020-01-01T00:00:00Z");
    const items = Array.from({ length: 2000 }, (_, index) =>
      item(`b${index}`, new Date(start + index * 3_600_000 * 7 + Math.floor(random() * 3_600_000)).toISOString()),
    );
    const policy: RetentionPolicy = { keepDaily: 7, keepWeekly: 5, keepMonthly: 12, keepYearly: "unlimited" };
    const expected = keptIds([...items].reverse(), policy);
    expect(keptIds(items, policy)).toEqual(expected);
    const shuffled = [...items];
    for (let index = shuffled.length - 1; index > 0; index--) {
      const other = Math.floor(random() * (index + 1));
      [shuffled[index], shuffled[other]] = [shuffled[other] as RetentionItem, shuffled[index] as RetentionItem];
    }
    expect(keptIds(shuffled, policy)).toEqual(expected);
  });

  it("keeps ties in input order when the input is oldest first", () => {
    const items = [
      item("old", "2024-01-01T00:00:00Z"),
      item("tie-1", "2024-01-02T00:00:00Z"),
      item("tie-2", "2024-01-02T00:00:00Z"),
    ];
    expect(applyPolicy(items, { keepLast: "unlimited" }).keep.map((kept) => kept.id)).toEqual([
      "tie-1",
      "tie-2",
      "old",
    ]);
  });
});

describe("planRetention", () => {
  const items = [
    item("h1-a", "2024-01-02T00:00:00Z", { hostname: "h1", paths: ["/b", "/a"], tags: ["x"] }),
    item("h1-b", "2024-01-01T00:00:00Z", { hostname: "h1", paths: ["/a", "/b"] }),
    item("h2-a", "2024-01-02T00:00:00Z", { hostname: "h2", paths: ["/a", "/b"], tags: ["y", "x"] }),
    item("h2-other-path", "2024-01-01T00:00:00Z", { hostname: "h2", paths: ["/c"] }),
  ];

  it("groups by host and sorted paths by default, in the shape of restic forget --json", () => {
    const groups = planRetention(items, { keepLast: 1 });
    expect(
      groups.map(({ host, paths, tags, keep, remove }) => ({
        host,
        paths,
        tags,
        keep: keep.map((k) => k.id),
        remove: remove.map((r) => r.id),
      })),
    ).toEqual([
      { host: "h1", paths: ["/a", "/b"], tags: null, keep: ["h1-a"], remove: ["h1-b"] },
      { host: "h2", paths: ["/a", "/b"], tags: null, keep: ["h2-a"], remove: [] },
      { host: "h2", paths: ["/c"], tags: null, keep: ["h2-other-path"], remove: [] },
    ]);
    expect(Object.keys(groups[0] ?? {})).toEqual(["tags", "host", "paths", "keep", "remove", "reasons"]);
  });

  it("groups by sorted tags, with untagged snapshots in a group of their own (tags null)", () => {
    const groups = planRetention(items, { keepLast: 1, groupBy: { host: false, paths: false, tags: true } });
    expect(groups.map((group) => [group.host, group.paths, group.tags, group.keep.map((k) => k.id)])).toEqual([
      ["", null, null, ["h1-b"]],
      ["", null, ["x"], ["h1-a"]],
      ["", null, ["x", "y"], ["h2-a"]],
    ]);
  });

  it("puts everything in one group when grouping is off", () => {
    const groups = planRetention(items, { keepLast: 1, groupBy: { host: false, paths: false, tags: false } });
    expect(groups).toHaveLength(1);
    expect(groups[0]?.keep.map((k) => k.id)).toEqual(["h1-a"]);
  });

  it("applies keep-within from each group's own newest snapshot", () => {
    const groups = planRetention(
      [
        item("h1-new", "2024-05-01T00:00:00Z", { hostname: "h1" }),
        item("h1-old", "2024-04-01T00:00:00Z", { hostname: "h1" }),
        item("h2-new", "2020-05-01T00:00:00Z", { hostname: "h2" }),
        item("h2-day-before", "2020-04-30T12:00:00Z", { hostname: "h2" }),
      ],
      { keepWithin: "2d", groupBy: { host: true, paths: false, tags: false } },
    );
    expect(groups.map((group) => group.keep.map((k) => k.id))).toEqual([["h1-new"], ["h2-new", "h2-day-before"]]);
  });

  it("refuses an empty policy, as restic forget does", () => {
    expect(() => planRetention(items, {})).toThrow(EmptyRetentionPolicyError);
    expect(() => planRetention(items, { keepDaily: 0, keepWithin: "0d", keepTags: [] })).toThrow(
      EmptyRetentionPolicyError,
    );
  });

  it("refuses a policy that would remove every snapshot of a group, naming the group", () => {
    expect(() =>
      planRetention(items, { keepTags: [["y"]], groupBy: { host: true, paths: false, tags: false } }),
    ).toThrow(new RetentionWouldRemoveAllError('refusing to delete last snapshot of snapshot group "host h1"'));
  });

  it("returns no groups for no snapshots", () => {
    expect(planRetention([], DEFAULT_DUMPSET_POLICY)).toEqual([]);
  });
});

describe("input", () => {
  it("rejects a count restic would refuse when a policy skips the schema", () => {
    expect(() => applyPolicy([item("x", "2024-01-01T00:00:00Z")], { keepDaily: -2 })).toThrow(
      InvalidRetentionPolicyError,
    );
    expect(() => applyPolicy([item("x", "2024-01-01T00:00:00Z")], { keepDaily: 1.5 })).toThrow(
      InvalidRetentionPolicyError,
    );
  });

  it("rejects a time without an offset, naming the backup", () => {
    expect(() => applyPolicy([item("b1", "2024-01-01T10:00:00")], { keepLast: 1 })).toThrow(InvalidSnapshotTimeError);
    expect(() => applyPolicy([item("b1", "2024-01-01T10:00:00")], { keepLast: 1 })).toThrow(/backup b1/);
  });

  it.each([
    "2024-02-30T10:00:00Z",
    "2024-01-01T24:00:00Z",
    "2024-01-01T10:00:60Z",
    "2024-01-01T10:00:00.1234567890Z",
    "2024-01-01T10:00:00+25:00",
    "2024-1-01T10:00:00Z",
    "not a time",
  ])("rejects %s", (time) => {
    expect(() => applyPolicy([item("x", time)], { keepLast: 1 })).toThrow(InvalidSnapshotTimeError);
  });

  it.each([
    "2024-01-01T10:00:00Z",
    "2024-01-01 10:00:00Z",
    "2024-01-01T10:00:00.123Z",
    "2024-01-01T10:00:00.123456789+05:30",
    "2024-01-01T10:00:00-0330",
  ])("accepts %s", (time) => {
    expect(keptIds([item("x", time)], { keepLast: 1 })).toEqual(["x"]);
  });
});

describe("the default dump-set policy", () => {
  it("keeps 30 daily, 12 weekly, 12 monthly and every yearly backup", () => {
    const items = daily(3 * 365, "2024-12-31");
    const result = applyPolicy(items, DEFAULT_DUMPSET_POLICY);
    const byReason = (reason: string) => result.reasons.filter((r) => r.matches.includes(reason)).length;
    expect(byReason("daily snapshot")).toBe(30);
    expect(byReason("weekly snapshot")).toBe(12);
    expect(byReason("monthly snapshot")).toBe(12);
    // 2024, 2023, 2022 and the oldest of 2022 (the history's first backup) as "oldest yearly snapshot".
    expect(byReason("yearly snapshot")).toBe(3);
    expect(result.reasons.at(-1)?.matches).toEqual(["oldest yearly snapshot"]);
  });
});
