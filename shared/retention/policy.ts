import * as z from "zod";
import { parseKeepWithinDuration } from "./duration";
import { InvalidRetentionPolicyError } from "./errors";

/**
 * A keep count as `restic forget` takes it: 0 (the rule is off), a positive count, or "unlimited", which
 * restic stores as -1 and which is accepted here in either spelling (and always given back as "unlimited").
 */
export const KeepCountSchema = z
  .union([z.literal("unlimited"), z.number().int().min(-1).max(Number.MAX_SAFE_INTEGER)])
  .transform((count) => (count === -1 ? ("unlimited" as const) : count));
export type KeepCount = z.infer<typeof KeepCountSchema>;

/** A restic duration such as "1y2m3d4h" (see `parseResticDuration`); "" or all zeros switches the rule off. */
export const KeepWithinSchema = z.string().superRefine((text, context) => {
  try {
    parseKeepWithinDuration(text, "duration");
  } catch (error) {
    context.addIssue({ code: "custom", message: (error as Error).message });
  }
});

/** Which snapshot fields split snapshots into groups that are retained independently. */
export const GroupBySchema = z.strictObject({ host: z.boolean(), paths: z.boolean(), tags: z.boolean() });
export type GroupBy = z.infer<typeof GroupBySchema>;

/** restic's default `--group-by host,paths`. */
export const DEFAULT_GROUP_BY: Readonly<GroupBy> = Object.freeze({ host: true, paths: true, tags: false });

/**
 * Everything `restic forget` takes to decide what to keep, with the same meaning (restic ≥ 0.16):
 * keep-* counts fill calendar buckets newest first; keep-within* are relative to the group's newest snapshot
 * (not to now); keepTags keeps a snapshot holding every tag of any one list. Absent means off.
 */
export const RetentionPolicySchema = z.strictObject({
  keepLast: KeepCountSchema.optional(),
  keepHourly: KeepCountSchema.optional(),
  keepDaily: KeepCountSchema.optional(),
  keepWeekly: KeepCountSchema.optional(),
  keepMonthly: KeepCountSchema.optional(),
  keepYearly: KeepCountSchema.optional(),
  keepWithin: KeepWithinSchema.optional(),
  keepWithinHourly: KeepWithinSchema.optional(),
  keepWithinDaily: KeepWithinSchema.optional(),
  keepWithinWeekly: KeepWithinSchema.optional(),
  keepWithinMonthly: KeepWithinSchema.optional(),
  keepWithinYearly: KeepWithinSchema.optional(),
  keepTags: z.array(z.array(z.string())).optional(),
  groupBy: GroupBySchema.optional(),
});
export type RetentionPolicy = z.infer<typeof RetentionPolicySchema>;

/**
 * The dump sets' grandfather-father-son rotation from the application's backup page: 30 daily, 12 weekly,
 * 12 monthly, and yearly ones without limit ("Annual backups retained per compliance requirements").
 */
export const DEFAULT_DUMPSET_POLICY: Readonly<RetentionPolicy> = Object.freeze({
  keepDaily: 30,
  keepWeekly: 12,
  keepMonthly: 12,
  keepYearly: "unlimited",
});

/** The keep-* count fields, in the order restic evaluates (and prints) them. */
export const KEEP_COUNT_FIELDS = [
  "keepLast",
  "keepHourly",
  "keepDaily",
  "keepWeekly",
  "keepMonthly",
  "keepYearly",
] as const;
/** The keep-within* fields, in the order restic evaluates them. */
export const KEEP_WITHIN_FIELDS = [
  "keepWithin",
  "keepWithinHourly",
  "keepWithinDaily",
  "keepWithinWeekly",
  "keepWithinMonthly",
  "keepWithinYearly",
] as const;

/**
 * `restic forget`'s flags as a CLI parser hands them over, in camelCase, values still as typed:
 * `--keep-daily 7` is `{ keepDaily: "7" }`, repeated `--keep-tag a,b --keep-tag c` is `{ keepTag: ["a,b", "c"] }`.
 */
export interface ResticForgetFlags {
  keepLast?: string | number;
  keepHourly?: string | number;
  keepDaily?: string | number;
  keepWeekly?: string | number;
  keepMonthly?: string | number;
  keepYearly?: string | number;
  keepWithin?: string;
  keepWithinHourly?: string;
  keepWithinDaily?: string;
  keepWithinWeekly?: string;
  keepWithinMonthly?: string;
  keepWithinYearly?: string;
  keepTag?: string | readonly string[];
  groupBy?: string;
}

/** Turns `restic forget` flag values into a policy, rejecting exactly what restic rejects. */
export function policyFromResticFlags(flags: ResticForgetFlags): RetentionPolicy {
  const policy: RetentionPolicy = {};
  for (const field of KEEP_COUNT_FIELDS) {
    const value = flags[field];
    if (value !== undefined) policy[field] = parseKeepCount(String(value), flagName(field));
  }
  for (const field of KEEP_WITHIN_FIELDS) {
    const value = flags[field];
    if (value === undefined) continue;
    parseKeepWithinDuration(value, flagName(field));
    policy[field] = value;
  }
  if (flags.keepTag !== undefined) {
    const lists = typeof flags.keepTag === "string" ? [flags.keepTag] : flags.keepTag;
    policy.keepTags = lists.map(splitTagList);
  }
  if (flags.groupBy !== undefined) policy.groupBy = parseGroupBy(flags.groupBy);
  return policy;
}

const LONG_FLAGS: Record<string, keyof ResticForgetFlags> = {
  "keep-last": "keepLast",
  "keep-hourly": "keepHourly",
  "keep-daily": "keepDaily",
  "keep-weekly": "keepWeekly",
  "keep-monthly": "keepMonthly",
  "keep-yearly": "keepYearly",
  "keep-within": "keepWithin",
  "keep-within-hourly": "keepWithinHourly",
  "keep-within-daily": "keepWithinDaily",
  "keep-within-weekly": "keepWithinWeekly",
  "keep-within-monthly": "keepWithinMonthly",
  "keep-within-yearly": "keepWithinYearly",
  "keep-tag": "keepTag",
  "group-by": "groupBy",
};

/** restic's one-letter aliases (pflag shorthands) of the retention flags. */
const SHORT_FLAGS: Record<string, keyof ResticForgetFlags> = {
  l: "keepLast",
  H: "keepHourly",
  d: "keepDaily",
  w: "keepWeekly",
  m: "keepMonthly",
  y: "keepYearly",
  g: "groupBy",
};

/**
 * Parses the retention part of a `restic forget` command line, e.g.
 * `["--keep-daily", "7", "--keep-within-daily=1m", "--keep-tag", "a,b", "-g", "host,tags"]`, the way pflag
 * does: `--flag value`, `--flag=value`, `-d 7`, `-d7`, `-d=7`; a repeated flag overrides the earlier one except
 * `--keep-tag`, which accumulates. Anything else is refused, so a typo cannot silently widen what is removed.
 */
export function parseResticFlags(argv: readonly string[]): RetentionPolicy {
  const flags: ResticForgetFlags = {};
  const keepTags: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const token = argv[index] as string;
    let field: keyof ResticForgetFlags | undefined;
    let inlineValue: string | undefined;
    if (token.startsWith("--")) {
      const equals = token.indexOf("=");
      const name = equals === -1 ? token.slice(2) : token.slice(2, equals);
      field = Object.hasOwn(LONG_FLAGS, name) ? LONG_FLAGS[name] : undefined;
      if (equals !== -1) inlineValue = token.slice(equals + 1);
    } else if (token.startsWith("-") && token.length >= 2) {
      const letter = token[1] as string;
      field = Object.hasOwn(SHORT_FLAGS, letter) ? SHORT_FLAGS[letter] : undefined;
      if (token.length > 2) inlineValue = token.slice(token[2] === "=" ? 3 : 2);
    }
    if (field === undefined) {
      throw new InvalidRetentionPolicyError(`"${token}" is not a restic forget retention flag`);
    }
    let value = inlineValue;
    if (value === undefined) {
      if (index + 1 >= argv.length) throw new InvalidRetentionPolicyError(`flag needs an argument: ${token}`);
      value = argv[++index] as string;
    }
    if (field === "keepTag") keepTags.push(value);
    else flags[field] = value;
  }
  if (keepTags.length > 0) flags.keepTag = keepTags;
  return policyFromResticFlags(flags);
}

/**
 * The policy as `restic forget` flags, in restic's order: what to pass restic for the same decision, and
 * how the CLI shows a policy. `parseResticFlags` reads them back to the same policy.
 */
export function resticFlagsOf(policy: RetentionPolicy): string[] {
  const flags: string[] = [];
  for (const field of [...KEEP_COUNT_FIELDS, ...KEEP_WITHIN_FIELDS]) {
    const value = policy[field];
    if (value !== undefined) flags.push(flagName(field), String(value));
  }
  for (const tags of policy.keepTags ?? []) flags.push("--keep-tag", tags.join(","));
  if (policy.groupBy) {
    const fields = (["host", "paths", "tags"] as const).filter((field) => policy.groupBy?.[field]);
    flags.push("--group-by", fields.join(","));
  }
  return flags;
}

/** restic's `ForgetPolicyCount.Set`: "unlimited", or what Go's strconv.ParseInt(s, 10, 0) reads, not negative. */
function parseKeepCount(text: string, flag: string): KeepCount {
  if (text === "unlimited") return "unlimited";
  if (!/^[+-]?[0-9]+$/.test(text)) {
    throw new InvalidRetentionPolicyError(`${flag}: "${text}" is not a count (a whole number, or "unlimited")`);
  }
  const count = Number(text);
  if (!Number.isSafeInteger(count)) throw new InvalidRetentionPolicyError(`${flag}: "${text}" is too large`);
  if (count < 0) {
    throw new InvalidRetentionPolicyError(`${flag}: negative values not allowed, use 'unlimited' instead`);
  }
  // "-0" reads as 0 in Go and must not become JS's -0.
  return count === 0 ? 0 : count;
}

/** restic's `splitTagList`: comma-separated, each tag trimmed; "" is the list [""] (snapshots without tags). */
function splitTagList(text: string): string[] {
  return text.split(",").map((tag) => tag.trim());
}

/** restic's `--group-by`: any of host(s), path(s), tag(s), comma-separated; "" switches grouping off. */
export function parseGroupBy(text: string): GroupBy {
  const groupBy: GroupBy = { host: false, paths: false, tags: false };
  for (const option of text.split(",")) {
    if (option === "host" || option === "hosts") groupBy.host = true;
    else if (option === "path" || option === "paths") groupBy.paths = true;
    else if (option === "tag" || option === "tags") groupBy.tags = true;
    else if (option !== "") throw new InvalidRetentionPolicyError(`--group-by: unknown grouping option: "${option}"`);
  }
  return groupBy;
}

function flagName(field: keyof ResticForgetFlags): string {
  return "--" + field.replace(/[A-Z]/g, (letter) => "-" + letter.toLowerCase());
}
