import { describe, expect, it } from "vitest";
import { formatResticDuration, parseResticDuration } from "../../shared/retention/duration";
import { InvalidRetentionPolicyError } from "../../shared/retention/errors";
import {
  DEFAULT_DUMPSET_POLICY,
  parseGroupBy,
  parseResticFlags,
  policyFromResticFlags,
  RetentionPolicySchema,
  resticFlagsOf,
} from "../../shared/retention/policy";
import { generatePolicyArgv, seededRandom } from "../support/retention-timelines";

describe("restic durations", () => {
  it.each([
    ["1y2m3d4h", { years: 1, months: 2, days: 3, hours: 4 }],
    ["3d1y", { years: 1, months: 0, days: 3, hours: 0 }],
    ["1d2d", { years: 0, months: 0, days: 2, hours: 0 }],
    ["  5h  ", { years: 0, months: 0, days: 0, hours: 5 }],
    ["", { years: 0, months: 0, days: 0, hours: 0 }],
    ["-2d", { years: 0, months: 0, days: -2, hours: 0 }],
    ["007m", { years: 0, months: 7, days: 0, hours: 0 }],
  ])("reads %j as restic's ParseDuration does", (text, expected) => {
    expect(parseResticDuration(text)).toEqual(expected);
  });

  it.each([
    ["5", /no unit found after number 5/],
    ["d", /no number found/],
    ["1w", /invalid unit "w"/],
    ["1d 2h", /no number found/],
    ["1.5d", /invalid unit "\."/],
    ["+1d", /no number found/],
    ["-", /no number found/],
    ["99999999999999999999y", /too large/],
  ])("rejects %j", (text, message) => {
    expect(() => parseResticDuration(text)).toThrow(InvalidRetentionPolicyError);
    expect(() => parseResticDuration(text)).toThrow(message);
  });

  it("prints durations in y, m, d, h order without zero parts, as restic's reasons do", () => {
    expect(formatResticDuration(parseResticDuration("4h0m3d1y"))).toBe("1y3d4h");
  });
});

describe("RetentionPolicySchema", () => {
  it("accepts restic's -1 for unlimited and gives it back as 'unlimited'", () => {
    expect(RetentionPolicySchema.parse({ keepYearly: -1, keepDaily: "unlimited" })).toEqual({
      keepYearly: "unlimited",
      keepDaily: "unlimited",
    });
  });

  it.each([
    [{ keepDaily: -2 }],
    [{ keepDaily: 1.5 }],
    [{ keepWithin: "1w" }],
    [{ keepWithinDaily: "-1d" }],
    [{ keepWithin: "2562048h" }],
    [{ keepDayly: 7 }],
    [{ groupBy: { host: true } }],
  ])("rejects %j", (policy) => {
    expect(RetentionPolicySchema.safeParse(policy).success).toBe(false);
  });

  it("holds the dump-set default: 30 daily, 12 weekly, 12 monthly, yearly without limit", () => {
    expect(RetentionPolicySchema.parse(DEFAULT_DUMPSET_POLICY)).toEqual({
      keepDaily: 30,
      keepWeekly: 12,
      keepMonthly: 12,
      keepYearly: "unlimited",
    });
  });
});

describe("restic forget flags", () => {
  it("turns a restic command line into a policy", () => {
    expect(
      parseResticFlags([
        "--keep-daily",
        "7",
        "--keep-within-daily",
        "1m",
        "--keep-tag",
        "a, b",
        "--keep-tag=c",
        "--group-by",
        "host,tags",
        "-y",
        "unlimited",
        "-l3",
        "-w=2",
        "--keep-within=1y",
      ]),
    ).toEqual({
      keepDaily: 7,
      keepWithinDaily: "1m",
      keepTags: [["a", "b"], ["c"]],
      groupBy: { host: true, paths: false, tags: true },
      keepYearly: "unlimited",
      keepLast: 3,
      keepWeekly: 2,
      keepWithin: "1y",
    });
  });

  it("lets a repeated flag override the earlier one, except --keep-tag which accumulates", () => {
    expect(parseResticFlags(["-d", "1", "--keep-daily", "2", "--keep-tag", "a", "--keep-tag", "b"])).toEqual({
      keepDaily: 2,
      keepTags: [["a"], ["b"]],
    });
  });

  it("reads --keep-tag '' as the list of one empty tag, which matches untagged snapshots", () => {
    expect(parseResticFlags(["--keep-tag", ""])).toEqual({ keepTags: [[""]] });
  });

  it("reads counts as Go's ParseInt does", () => {
    expect(policyFromResticFlags({ keepDaily: "+5", keepHourly: "007", keepLast: "-0" })).toEqual({
      keepDaily: 5,
      keepHourly: 7,
      keepLast: 0,
    });
  });

  it.each([
    [["--keep-daily", "-1"], /negative values not allowed, use 'unlimited' instead/],
    [["--keep-daily", "seven"], /--keep-daily: "seven" is not a count/],
    [["--keep-daily", " 7"], /is not a count/],
    [["--keep-within", "1w"], /--keep-within: invalid duration "1w"/],
    [["--keep-within-weekly", "-1d"], /negative part/],
    [["--keep-dayly", "7"], /"--keep-dayly" is not a restic forget retention flag/],
    [["--prune"], /is not a restic forget retention flag/],
    [["--keep-daily"], /flag needs an argument/],
    [["--group-by", "host,source"], /unknown grouping option: "source"/],
  ])("rejects %j", (argv, message) => {
    expect(() => parseResticFlags(argv)).toThrow(InvalidRetentionPolicyError);
    expect(() => parseResticFlags(argv)).toThrow(message);
  });

  it("reads --group-by like restic, with plurals, and '' switching grouping off", () => {
    expect(parseGroupBy("hosts,path,tag")).toEqual({ host: true, paths: true, tags: true });
    expect(parseGroupBy("")).toEqual({ host: false, paths: false, tags: false });
  });
});

describe("a policy shown as restic forget flags", () => {
  it("spells the default dump-set rotation the way restic takes it", () => {
    expect(resticFlagsOf(DEFAULT_DUMPSET_POLICY)).toEqual([
      "--keep-daily",
      "30",
      "--keep-weekly",
      "12",
      "--keep-monthly",
      "12",
      "--keep-yearly",
      "unlimited",
    ]);
  });

  it("reads back to the same policy, for every policy the differential test generates", () => {
    const random = seededRandom(7);
    for (let round = 0; round < 500; round++) {
      const policy = parseResticFlags(generatePolicyArgv(random));
      expect(parseResticFlags(resticFlagsOf(policy))).toEqual(policy);
    }
  });

  it("keeps tag lists and grouping, including the empty tag list and grouping switched off", () => {
    const policy = parseResticFlags(["--keep-tag", "a,b", "--keep-tag", "", "--group-by", ""]);
    expect(resticFlagsOf(policy)).toEqual(["--keep-tag", "a,b", "--keep-tag", "", "--group-by", ""]);
    expect(parseResticFlags(resticFlagsOf(policy))).toEqual(policy);
  });
});
