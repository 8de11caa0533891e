import * as z from "zod";
import { formatResticDuration, isZeroDuration, parseKeepWithinDuration, type ResticDuration } from "./duration";
import {
  EmptyRetentionPolicyError,
  InvalidRetentionPolicyError,
  InvalidSnapshotTimeError,
  RetentionWouldRemoveAllError,
} from "./errors";
import {
  DEFAULT_GROUP_BY,
  type GroupBy,
  KEEP_COUNT_FIELDS,
  KEEP_WITHIN_FIELDS,
  type KeepCount,
  type RetentionPolicy,
} from "./policy";
import {
  GO_ZERO_TIME,
  isoYearWeek,
  keepWithinCutoff,
  lastReadTime,
  parseSnapshotTime,
  readTime,
  type SnapshotTime,
} from "./time";

/** One backup as the engine sees it: plain data, whatever store it came from. */
export const RetentionItemSchema = z.object({
  id: z.string(),
  /** RFC 3339 with an offset, as restic stores it; the offset decides the calendar buckets. */
  time: z.string(),
  hostname: z.string().optional(),
  paths: z.array(z.string()).optional(),
  tags: z.array(z.string()).optional(),
});
export type RetentionItem = z.infer<typeof RetentionItemSchema>;

/** restic's counters after a kept snapshot: what is left of each keep-* count (-1: unlimited, 0: used up/off). */
export interface KeepCounters {
  last: number;
  hourly: number;
  daily: number;
  weekly: number;
  monthly: number;
  yearly: number;
}

export interface KeepReason<T> {
  snapshot: T;
  /** restic's words and order: "has tags [a, b]", "within 1y", "last snapshot", "daily snapshot", "oldest daily snapshot", "daily within 1m". */
  matches: string[];
  counters: KeepCounters;
}

/** restic's `ApplyPolicy` result: keep and remove newest first, one reason per kept snapshot, in keep's order. */
export interface PolicyResult<T> {
  keep: T[];
  remove: T[];
  reasons: KeepReason<T>[];
}

/**
 * One group in the shape `restic forget --json` prints (field names and order); `tags` and `paths` are null
 * when the grouping does not use them or the snapshots have none, and `host` is "" when it does not use hosts.
 * Unlike restic, empty `keep`/`remove`/`reasons` are [] rather than null, and reasons carry the counters.
 */
export interface RetentionGroup<T> extends PolicyResult<T> {
  tags: string[] | null;
  host: string;
  paths: string[] | null;
}

export interface RetentionOptions {
  /**
   * restic measures keep-within from the newest snapshot that is not in the future; "now" decides which ones
   * are. Defaults to the current time, which only matters when snapshots are dated in the future.
   */
  now?: Date;
}

/**
 * restic `forget` over many sources at once: groups `items` as `--group-by` does (the policy's `groupBy`,
 * restic's default host+paths when absent), then applies the policy to each group. Groups come out sorted by
 * their key, where restic's order is random. Like `restic forget`, refuses an empty policy and any group the
 * policy would empty completely.
 *
 * Keep-within cutoffs are calendar arithmetic on the newest snapshot's stored offset: what restic does when
 * it runs in UTC (as a Lambda does) or in any zone other than the snapshots'. restic run in the snapshots'
 * own zone follows that zone's daylight saving instead, so a cutoff across a DST change moves by an hour.
 */
export function planRetention<T extends RetentionItem>(
  items: readonly T[],
  policy: RetentionPolicy,
  options: RetentionOptions = {},
): RetentionGroup<T>[] {
  const compiled = compilePolicy(policy);
  if (compiled.empty) {
    throw new EmptyRetentionPolicyError(EMPTY_POLICY_MESSAGE);
  }
  const columns = readColumns(items, compiled.tagLists);
  const now = instantOf(options.now ?? new Date());
  const groups: RetentionGroup<T>[] = [];
  for (const group of groupIndices(items, policy.groupBy ?? DEFAULT_GROUP_BY)) {
    const result = applyCompiledPolicy(items, group.indices, columns, compiled, now);
    if (result.keep.length === 0) {
      throw new RetentionWouldRemoveAllError(
        `refusing to delete last snapshot of snapshot group "${describeGroup(group)}"`,
      );
    }
    groups.push({ tags: group.tags, host: group.host, paths: group.paths, ...result });
  }
  return groups;
}

/** restic's words when a policy has no rule at all; `forget` then refuses to run. */
export const EMPTY_POLICY_MESSAGE = "no policy was specified, no snapshots will be removed";

/**
 * restic's `ExpirePolicy.Empty()`: every count 0 (or absent), every keep-within zero (or absent), no keep-tag
 * list. Such a policy keeps nothing, so restic refuses it; every caller that could apply it must do the same.
 */
export function isEmptyPolicy(policy: RetentionPolicy): boolean {
  return compilePolicy(policy).empty;
}

/**
 * restic's `ApplyPolicy` on one group the caller has already formed (grouping is ignored). As in restic, an
 * empty policy removes everything: the refusals belong to `planRetention` and `planSource` (check
 * `isEmptyPolicy` first), as they belong to `forget`.
 */
export function applyPolicy<T extends RetentionItem>(
  items: readonly T[],
  policy: RetentionPolicy,
  options: RetentionOptions = {},
): PolicyResult<T> {
  const compiled = compilePolicy(policy);
  const columns = readColumns(items, compiled.tagLists);
  return applyCompiledPolicy(items, allIndices(items.length), columns, compiled, instantOf(options.now ?? new Date()));
}

// ---------------------------------------------------------------------------------------------------------
// The policy, compiled once per call.

/** restic's bucket functions; the values double as the slots of `KeepCounters` (last, hourly, ... yearly). */
const Bucket = { Always: 0, Hour: 1, Day: 2, Week: 3, Month: 4, Year: 5 } as const;
type Bucket = (typeof Bucket)[keyof typeof Bucket];

interface CountRule {
  bucket: Bucket;
  /** -1 for unlimited, as restic stores it. */
  count: number;
  reason: string;
  oldestReason: string;
}

interface WithinRule {
  bucket: Bucket;
  duration: ResticDuration;
  reason: string;
  oldestReason: string;
}

interface CompiledPolicy {
  counts: CountRule[];
  /** One slot per restic count bucket (last..yearly), -1/0/n, for the counters of every reason. */
  initialCounts: number[];
  within: ResticDuration | undefined;
  withinReason: string;
  withinBuckets: WithinRule[];
  tagLists: string[][];
  tagReasons: string[];
  empty: boolean;
}

const COUNT_BUCKETS: Record<(typeof KEEP_COUNT_FIELDS)[number], [Bucket, string]> = {
  keepLast: [Bucket.Always, "last snapshot"],
  keepHourly: [Bucket.Hour, "hourly snapshot"],
  keepDaily: [Bucket.Day, "daily snapshot"],
  keepWeekly: [Bucket.Week, "weekly snapshot"],
  keepMonthly: [Bucket.Month, "monthly snapshot"],
  keepYearly: [Bucket.Year, "yearly snapshot"],
};

const WITHIN_BUCKETS: Record<Exclude<(typeof KEEP_WITHIN_FIELDS)[number], "keepWithin">, [Bucket, string]> = {
  keepWithinHourly: [Bucket.Hour, "hourly within"],
  keepWithinDaily: [Bucket.Day, "daily within"],
  keepWithinWeekly: [Bucket.Week, "weekly within"],
  keepWithinMonthly: [Bucket.Month, "monthly within"],
  keepWithinYearly: [Bucket.Year, "yearly within"],
};

function compilePolicy(policy: RetentionPolicy): CompiledPolicy {
  const counts: CountRule[] = [];
  const initialCounts: number[] = [];
  for (const field of KEEP_COUNT_FIELDS) {
    const count = countValue(policy[field], field);
    initialCounts.push(count);
    const [bucket, reason] = COUNT_BUCKETS[field];
    if (count !== 0) counts.push({ bucket, count, reason, oldestReason: `oldest ${reason}` });
  }
  const withinDuration = durationValue(policy.keepWithin, "keepWithin");
  const withinBuckets: WithinRule[] = [];
  for (const field of KEEP_WITHIN_FIELDS) {
    if (field === "keepWithin") continue;
    const duration = durationValue(policy[field], field);
    if (duration === undefined) continue;
    const [bucket, reason] = WITHIN_BUCKETS[field];
    const text = formatResticDuration(duration);
    withinBuckets.push({ bucket, duration, reason: `${reason} ${text}`, oldestReason: `oldest ${reason} ${text}` });
  }
  const tagLists = policy.keepTags ?? [];
  return {
    counts,
    initialCounts,
    within: withinDuration,
    withinReason: withinDuration ? `within ${formatResticDuration(withinDuration)}` : "",
    withinBuckets,
    tagLists,
    // restic prints a TagList as "[a, b]".
    tagReasons: tagLists.map((list) => `has tags [${list.join(", ")}]`),
    // restic's ExpirePolicy.Empty(): keep-tag with an empty list of lists counts as no rule.
    empty: counts.length === 0 && !withinDuration && withinBuckets.length === 0 && tagLists.length === 0,
  };
}

function countValue(count: KeepCount | undefined, field: string): number {
  if (count === undefined) return 0;
  if (count === "unlimited" || count === -1) return -1;
  // A policy built in code skips RetentionPolicySchema; restic itself refuses these rather than guess.
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new InvalidRetentionPolicyError(`${field}: ${count} is not a count (a whole number ≥ 0, or "unlimited")`);
  }
  return count;
}

function durationValue(text: string | undefined, field: string): ResticDuration | undefined {
  if (text === undefined) return undefined;
  const duration = parseKeepWithinDuration(text, field);
  return isZeroDuration(duration) ? undefined : duration;
}

// ---------------------------------------------------------------------------------------------------------
// Snapshots read once, in input order, into columns: the main loop then visits them newest first touching
// typed arrays only. At a million items, going back to each item object in sorted order costs more than all
// the arithmetic, because those objects lie scattered over the heap.

interface ItemColumns {
  epochSeconds: Float64Array;
  nanoseconds: Int32Array;
  /** The wall clock in the snapshot's own offset as YYYYMMDDHH: restic's hourly bucket; /100, /1e4, /1e6 give the others. */
  wallHour: Float64Array;
  /** Days since 1970-01-01 of the wall-clock date, for ISO weeks. */
  wallDay: Int32Array;
  /** Per keep-tag list, 1 where the snapshot has the list's tags. */
  tagMatches: Uint8Array[];
}

function readColumns(items: readonly RetentionItem[], tagLists: readonly string[][]): ItemColumns {
  const count = items.length;
  const columns: ItemColumns = {
    epochSeconds: new Float64Array(count),
    nanoseconds: new Int32Array(count),
    wallHour: new Float64Array(count),
    wallDay: new Int32Array(count),
    tagMatches: tagLists.map(() => new Uint8Array(count)),
  };
  for (let index = 0; index < count; index++) {
    const item = items[index] as RetentionItem;
    if (typeof item.time !== "string" || !readTime(item.time)) {
      throw new InvalidSnapshotTimeError(
        `backup ${item.id} has time ${JSON.stringify(item.time)}, not an RFC 3339 time with an offset ` +
          `(e.g. "2024-01-01T10:00:00+01:00" or "...Z")`,
      );
    }
    const time = lastReadTime();
    columns.epochSeconds[index] = time.epochSeconds;
    columns.nanoseconds[index] = time.nanoseconds;
    columns.wallHour[index] = time.year * 1_000_000 + time.month * 10_000 + time.day * 100 + time.hour;
    columns.wallDay[index] = time.civilDay;
    for (let list = 0; list < tagLists.length; list++) {
      if (hasTags(item.tags, tagLists[list] as string[])) (columns.tagMatches[list] as Uint8Array)[index] = 1;
    }
  }
  return columns;
}

interface Instant {
  seconds: number;
  nanoseconds: number;
}

function instantOf(date: Date): Instant {
  const milliseconds = date.getTime();
  const seconds = Math.floor(milliseconds / 1000);
  return { seconds, nanoseconds: (milliseconds - seconds * 1000) * 1_000_000 };
}

function isAfter(seconds: number, nanoseconds: number, instant: Instant): boolean {
  return seconds > instant.seconds || (seconds === instant.seconds && nanoseconds > instant.nanoseconds);
}

// ---------------------------------------------------------------------------------------------------------
// restic's ApplyPolicy (internal/restic/snapshot_policy.go), rule for rule.

/** What YYYYMMDDHH is divided by to get each bucket (weeks are computed from the day instead). */
const BUCKET_DIVISOR: Record<Bucket, number> = {
  [Bucket.Always]: 0,
  [Bucket.Hour]: 1,
  [Bucket.Day]: 100,
  [Bucket.Week]: 0,
  [Bucket.Month]: 10_000,
  [Bucket.Year]: 1_000_000,
};

/** The calendar period a snapshot falls in, from its wall-clock YYYYMMDDHH and civil day. */
function calendarPeriod(bucket: Bucket, divisor: number, civilDay: number, wallHour: number): number {
  return bucket === Bucket.Week
    ? isoYearWeek(civilDay, Math.floor(wallHour / BUCKET_DIVISOR[Bucket.Year]))
    : Math.floor(wallHour / divisor);
}

function applyCompiledPolicy<T extends RetentionItem>(
  items: readonly T[],
  indices: Uint32Array,
  columns: ItemColumns,
  policy: CompiledPolicy,
  now: Instant,
): PolicyResult<T> {
  const result: PolicyResult<T> = { keep: [], remove: [], reasons: [] };
  if (indices.length === 0) return result;
  const order = sortNewestFirst(indices, columns);
  const { epochSeconds, nanoseconds, wallHour, wallDay, tagMatches } = columns;

  const latest = latestNotInFuture(order, items, columns, now);
  const withinCutoff = policy.within ? cutoffInstant(latest, policy.within) : undefined;
  const withinCutoffs = policy.withinBuckets.map((rule) => cutoffInstant(latest, rule.duration));

  const countRules = policy.counts.length;
  const remaining = policy.counts.map((rule) => rule.count);
  const countBucket = policy.counts.map((rule) => rule.bucket);
  const countDivisor = policy.counts.map((rule) => BUCKET_DIVISOR[rule.bucket]);
  const countLast = policy.counts.map(() => -1);
  const withinBucket = policy.withinBuckets.map((rule) => rule.bucket);
  const withinDivisor = policy.withinBuckets.map((rule) => BUCKET_DIVISOR[rule.bucket]);
  const withinLast = policy.withinBuckets.map(() => -1);
  const counters = [...policy.initialCounts];
  const lastPosition = order.length - 1;
  const needsInstant = withinCutoff !== undefined || withinCutoffs.length > 0;
  const needsWallClock = withinCutoffs.length > 0 || policy.counts.some((rule) => rule.bucket !== Bucket.Always);
  // Reused for every snapshot and copied only for kept ones: most snapshots of a long history are removed.
  const matches: string[] = [];

  for (let position = 0; position < order.length; position++) {
    const index = order[position] as number;
    // Each column read is a cache miss at a million items in sorted order: read only what a rule needs.
    const seconds = needsInstant ? (epochSeconds[index] as number) : 0;
    const nanos = needsInstant ? (nanoseconds[index] as number) : 0;
    const hourKey = needsWallClock ? (wallHour[index] as number) : 0;
    let matched = 0;

    for (let list = 0; list < tagMatches.length; list++) {
      if ((tagMatches[list] as Uint8Array)[index] === 1) matches[matched++] = policy.tagReasons[list] as string;
    }

    if (withinCutoff && isAfter(seconds, nanos, withinCutoff)) matches[matched++] = policy.withinReason;

    for (let rule = 0; rule < countRules; rule++) {
      const left = remaining[rule] as number;
      if (left === 0) continue;
      const bucket = countBucket[rule] as Bucket;
      const value =
        bucket === Bucket.Always
          ? position
          : calendarPeriod(bucket, countDivisor[rule] as number, wallDay[index] as number, hourKey);
      const sameBucket = value === countLast[rule];
      // restic ≥ 0.16 also keeps the group's oldest snapshot while a count is left, to keep the history long.
      if (!sameBucket || position === lastPosition) {
        const ruleSpec = policy.counts[rule] as CountRule;
        matches[matched++] = sameBucket ? ruleSpec.oldestReason : ruleSpec.reason;
        countLast[rule] = value;
        if (left > 0) {
          remaining[rule] = left - 1;
          counters[bucket] = left - 1;
        }
      }
    }

    for (let rule = 0; rule < withinCutoffs.length; rule++) {
      if (!isAfter(seconds, nanos, withinCutoffs[rule] as Instant)) continue;
      const bucket = withinBucket[rule] as Bucket;
      const value = calendarPeriod(bucket, withinDivisor[rule] as number, wallDay[index] as number, hourKey);
      const sameBucket = value === withinLast[rule];
      if (!sameBucket || position === lastPosition) {
        const ruleSpec = policy.withinBuckets[rule] as WithinRule;
        matches[matched++] = sameBucket ? ruleSpec.oldestReason : ruleSpec.reason;
        withinLast[rule] = value;
      }
    }

    const item = items[index] as T;
    if (matched > 0) {
      result.keep.push(item);
      result.reasons.push({
        snapshot: item,
        matches: matches.slice(0, matched),
        counters: {
          last: counters[0] as number,
          hourly: counters[1] as number,
          daily: counters[2] as number,
          weekly: counters[3] as number,
          monthly: counters[4] as number,
          yearly: counters[5] as number,
        },
      });
    } else {
      result.remove.push(item);
    }
  }
  return result;
}

function allIndices(count: number): Uint32Array {
  const indices = new Uint32Array(count);
  for (let index = 0; index < count; index++) indices[index] = index;
  return indices;
}

/** restic's `HasTags`, quirk included: an empty tag in the list matches a snapshot without tags, at once. */
function hasTags(snapshotTags: readonly string[] | undefined, list: readonly string[]): boolean {
  for (const tag of list) {
    if (tag === "" && (snapshotTags === undefined || snapshotTags.length === 0)) return true;
    if (!snapshotTags?.includes(tag)) return false;
  }
  return true;
}

/**
 * restic's `findLatestTimestamp`: the newest snapshot strictly before now (and after Go's zero time); Go's
 * zero time when there is none, which puts every snapshot within any keep-within duration.
 */
function latestNotInFuture(
  order: Uint32Array,
  items: readonly RetentionItem[],
  times: ItemColumns,
  now: Instant,
): Readonly<SnapshotTime> {
  const zero: Instant = { seconds: GO_ZERO_TIME.epochSeconds, nanoseconds: 0 };
  for (const index of order) {
    const seconds = times.epochSeconds[index] as number;
    const nanos = times.nanoseconds[index] as number;
    // Newest first, so the first one before now is the latest.
    if (isAfter(now.seconds, now.nanoseconds, { seconds, nanoseconds: nanos })) {
      if (!isAfter(seconds, nanos, zero)) break;
      return parseSnapshotTime((items[index] as RetentionItem).time) as SnapshotTime;
    }
  }
  return GO_ZERO_TIME;
}

function cutoffInstant(latest: Readonly<SnapshotTime>, duration: ResticDuration): Instant {
  return { seconds: keepWithinCutoff(latest, duration), nanoseconds: latest.nanoseconds };
}

// ---------------------------------------------------------------------------------------------------------
// Sorting: newest first, ties in input order (restic's sort.Stable).

/**
 * Input that is already in order (either way) is common, since stores keep backups in time order, and costs
 * one pass. Otherwise packs `(newest − seconds) · 2^bits + position` into one float64 so that a native numeric
 * sort, several times faster than a comparator sort at a million items, gives newest first with ties in input
 * order; runs of equal seconds are then ordered by nanoseconds. Falls back to a comparator sort when the span
 * of seconds is too wide for the packing to stay exact.
 */
function sortNewestFirst(indices: Uint32Array, times: ItemColumns): Uint32Array {
  const { epochSeconds } = times;
  const count = indices.length;
  let newest = Number.NEGATIVE_INFINITY;
  let oldest = Number.POSITIVE_INFINITY;
  let newestFirst = true;
  let oldestFirst = true;
  for (let position = 0; position < count; position++) {
    const index = indices[position] as number;
    const seconds = epochSeconds[index] as number;
    if (seconds > newest) newest = seconds;
    if (seconds < oldest) oldest = seconds;
    if (position > 0) {
      const comparison = compareTimes(indices[position - 1] as number, index, times);
      if (comparison < 0) newestFirst = false;
      else if (comparison > 0) oldestFirst = false;
    }
  }
  if (newestFirst) return indices;
  const order = new Uint32Array(count);
  if (oldestFirst) {
    for (let position = 0; position < count; position++) order[position] = indices[count - 1 - position] as number;
    // Reversing also reversed each run of equal times; put those back in input order.
    forEachRunOfEqualTimes(order, times, (start, end) => order.subarray(start, end).reverse());
    return order;
  }

  const positionScale = 2 ** Math.max(1, Math.ceil(Math.log2(count + 1)));
  if ((newest - oldest + 1) * positionScale <= Number.MAX_SAFE_INTEGER) {
    const keys = new Float64Array(count);
    for (let position = 0; position < count; position++) {
      keys[position] = (newest - (epochSeconds[indices[position] as number] as number)) * positionScale + position;
    }
    keys.sort();
    for (let rank = 0; rank < count; rank++) {
      const key = keys[rank] as number;
      // Exact: positionScale is a power of two. (Float `%` would be several times slower.)
      order[rank] = indices[key - Math.floor(key / positionScale) * positionScale] as number;
    }
    orderEqualSecondsByNanoseconds(order, times);
  } else {
    const positions = Array.from({ length: count }, (_, position) => position);
    positions.sort((a, b) => compareTimes(indices[b] as number, indices[a] as number, times) || a - b);
    for (let rank = 0; rank < count; rank++) order[rank] = indices[positions[rank] as number] as number;
  }
  return order;
}

/** Negative when item `a` is older than item `b`, positive when newer, 0 at the same nanosecond. */
function compareTimes(a: number, b: number, times: ItemColumns): number {
  return (
    (times.epochSeconds[a] as number) - (times.epochSeconds[b] as number) ||
    (times.nanoseconds[a] as number) - (times.nanoseconds[b] as number)
  );
}

function forEachRunOfEqualTimes(order: Uint32Array, times: ItemColumns, visit: (start: number, end: number) => void) {
  let start = 0;
  while (start < order.length) {
    let end = start + 1;
    while (end < order.length && compareTimes(order[start] as number, order[end] as number, times) === 0) end++;
    if (end - start > 1) visit(start, end);
    start = end;
  }
}

/** Within each run of equal seconds (in input order), a stable sort by nanoseconds, newest first. */
function orderEqualSecondsByNanoseconds(order: Uint32Array, times: ItemColumns): void {
  const { epochSeconds, nanoseconds } = times;
  let start = 0;
  while (start < order.length) {
    const seconds = epochSeconds[order[start] as number] as number;
    let end = start + 1;
    let mixed = false;
    while (end < order.length && epochSeconds[order[end] as number] === seconds) {
      if (nanoseconds[order[end] as number] !== nanoseconds[order[start] as number]) mixed = true;
      end++;
    }
    if (mixed) {
      // Array.prototype.sort is stable, so equal nanoseconds stay in input order.
      const run = Array.from(order.subarray(start, end));
      run.sort((a, b) => (nanoseconds[b] as number) - (nanoseconds[a] as number));
      order.set(run, start);
    }
    start = end;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Grouping, as restic's GroupSnapshots.

interface IndexGroup {
  host: string;
  paths: string[] | null;
  tags: string[] | null;
  indices: Uint32Array;
}

const EMPTY_INDICES = new Uint32Array(0);

function groupIndices(items: readonly RetentionItem[], groupBy: GroupBy): IndexGroup[] {
  if (!groupBy.host && !groupBy.paths && !groupBy.tags) {
    return items.length === 0 ? [] : [{ host: "", paths: null, tags: null, indices: allIndices(items.length) }];
  }
  type Members = { host: string; paths: string[] | null; tags: string[] | null; size: number; indices: Uint32Array };
  const members = new Map<string, Members>();
  const groupOf: Members[] = new Array(items.length);
  let previous: RetentionItem | undefined;
  let previousGroup: Members | undefined;
  for (let index = 0; index < items.length; index++) {
    const item = items[index] as RetentionItem;
    // Backups of one source mostly follow each other: skip building the key when nothing that groups changed.
    let group =
      previous &&
      (!groupBy.host || item.hostname === previous.hostname) &&
      (!groupBy.paths || sameValues(item.paths, previous.paths)) &&
      (!groupBy.tags || sameValues(item.tags, previous.tags))
        ? previousGroup
        : undefined;
    if (!group) {
      const host = groupBy.host ? (item.hostname ?? "") : "";
      const paths = groupBy.paths ? sortedOrNull(item.paths) : null;
      const tags = groupBy.tags ? sortedOrNull(item.tags) : null;
      const key = JSON.stringify([host, paths, tags]);
      group = members.get(key);
      if (!group) {
        group = { host, paths, tags, size: 0, indices: EMPTY_INDICES };
        members.set(key, group);
      }
    }
    group.size++;
    groupOf[index] = group;
    previous = item;
    previousGroup = group;
  }
  // Two passes into exactly sized arrays: a million-entry number[] grown by push is mostly garbage.
  for (const group of members.values()) {
    group.indices = new Uint32Array(group.size);
    group.size = 0;
  }
  for (let index = 0; index < items.length; index++) {
    const group = groupOf[index] as Members;
    group.indices[group.size++] = index;
  }
  return [...members.values()]
    .sort((a, b) => compareCodePoints(a.host, b.host) || compareLists(a.paths, b.paths) || compareLists(a.tags, b.tags))
    .map((group) => ({
      host: group.host,
      paths: group.paths,
      tags: group.tags,
      indices: group.indices,
    }));
}

/** Groups come out by host, then paths, then tags (restic's order is a Go map's, i.e. random); none first. */
function compareLists(a: string[] | null, b: string[] | null): number {
  if (a === null || b === null) return (a === null ? 0 : 1) - (b === null ? 0 : 1);
  for (let position = 0; position < Math.min(a.length, b.length); position++) {
    const comparison = compareCodePoints(a[position] as string, b[position] as string);
    if (comparison !== 0) return comparison;
  }
  return a.length - b.length;
}

function sameValues(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let position = 0; position < a.length; position++) if (a[position] !== b[position]) return false;
  return true;
}

/** restic sorts a snapshot's paths and tags (Go's byte order) for the group key; nil stays nil (JSON null). */
function sortedOrNull(values: readonly string[] | undefined): string[] | null {
  if (values === undefined || values.length === 0) return null;
  return values.length === 1 ? [...values] : [...values].sort(compareCodePoints);
}

/** Go compares strings by UTF-8 bytes, i.e. by code points; JS's default sort compares UTF-16 units. */
function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let position = 0; position < length; position++) {
    const unitA = a.charCodeAt(position);
    const unitB = b.charCodeAt(position);
    if (unitA !== unitB) return codePointRank(unitA) - codePointRank(unitB);
  }
  return a.length - b.length;
}

/** Moves surrogates (U+D800–DFFF, i.e. code points above U+FFFF) after U+E000–FFFF, as code point order has it. */
function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

/** restic's `SnapshotGroupKey.String()`, for the refusal message. */
function describeGroup(group: IndexGroup): string {
  const parts: string[] = [];
  if (group.host !== "") parts.push(`host ${group.host}`);
  if (group.paths) parts.push(`path [${group.paths.join(" ")}]`);
  if (group.tags) parts.push(`tags [${group.tags.join(" ")}]`);
  return parts.join(", ");
}
