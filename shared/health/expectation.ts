import { CronExpressionParser } from "cron-parser";
import * as z from "zod";
import { formatDuration } from "./duration";

/** Below this, two COMPLETE backups are one run (several restic snapshots of one backup, say), not a gap. */
export const MIN_GAP_SECONDS = 60;
/** Inference needs this many COMPLETE backups (so at least two gaps between them). */
export const MIN_BACKUPS_TO_INFER = 3;
/** The grace when none is given: the larger of this and {@link DEFAULT_GRACE_FRACTION} of the interval. */
export const MIN_DEFAULT_GRACE_SECONDS = 3600;
export const DEFAULT_GRACE_FRACTION = 0.1;
/**
 * A backup counts for a cron time when it was taken at most this long before it (a clock a little fast, a
 * manifest timestamped as the job started); also bounded by the grace and a quarter of the schedule's gap.
 */
export const CRON_EARLY_TOLERANCE_SECONDS = 15 * 60;

function cronProblem(cron: string, timeZone: string): string | undefined {
  try {
    new Intl.DateTimeFormat("en", { timeZone });
  } catch {
    return `unknown time zone ${timeZone} (an IANA name such as Europe/Berlin or UTC)`;
  }
  try {
    CronExpressionParser.parse(cron, { tz: timeZone });
    return undefined;
  } catch (error) {
    return `invalid cron expression "${cron}": ${(error as Error).message}`;
  }
}

const GraceSchema = z
  .number()
  .int()
  .min(0)
  .max(365 * 86_400);

/** A backup at least every `every` seconds, late after `graceSeconds` more. */
export const IntervalExpectationSchema = z.strictObject({
  every: z
    .number()
    .int()
    .min(MIN_GAP_SECONDS)
    .max(365 * 86_400),
  graceSeconds: GraceSchema,
});

/** A backup at each time of a cron schedule in a time zone (as the host's cron runs it), late after the grace. */
export const CronExpectationSchema = z
  .strictObject({ cron: z.string().min(1).max(200), timeZone: z.string().min(1), graceSeconds: GraceSchema })
  .superRefine((expectation, context) => {
    const problem = cronProblem(expectation.cron, expectation.timeZone);
    if (problem) context.addIssue({ code: "custom", path: ["cron"], message: problem });
  });

export const ExpectationSchema = z.union([IntervalExpectationSchema, CronExpectationSchema]);
export type Expectation = z.infer<typeof ExpectationSchema>;
export type CronExpectation = z.infer<typeof CronExpectationSchema>;
export type IntervalExpectation = z.infer<typeof IntervalExpectationSchema>;

/** Where a source's expectation comes from: its own, its restic repository's default, or its history. */
export type ExpectationOrigin = "source" | "repository" | "inferred";
export type EffectiveExpectation = Expectation & { origin: ExpectationOrigin };

export function isCron(expectation: Expectation): expectation is CronExpectation {
  return "cron" in expectation;
}

/** The grace when none is given: max(1h, 10% of the interval). */
export function defaultGraceSeconds(intervalSeconds: number): number {
  return Math.max(MIN_DEFAULT_GRACE_SECONDS, Math.round(intervalSeconds * DEFAULT_GRACE_FRACTION));
}

/**
 * A cron schedule's usual gap, for its default grace: the median of its next eight gaps after `at` (so
 * `0 2 * * 1-5` is a day, not the weekend's three).
 */
export function cronPeriodSeconds(cron: string, timeZone: string, at: Date): number {
  const times = CronExpressionParser.parse(cron, { tz: timeZone, currentDate: at });
  let previous = times.next().toDate().getTime();
  const gaps: number[] = [];
  for (let i = 0; i < 8; i++) {
    const next = times.next().toDate().getTime();
    gaps.push((next - previous) / 1000);
    previous = next;
  }
  return median(gaps);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * The expectation a source's history shows: the median gap between its consecutive COMPLETE backups (backups
 * under a minute apart are one run, not a gap), with the default grace. undefined with fewer than three COMPLETE
 * backups (two gaps).
 */
export function inferExpectation(completeTimes: readonly string[]): IntervalExpectation | undefined {
  if (completeTimes.length < MIN_BACKUPS_TO_INFER) return undefined;
  const times = completeTimes.map((time) => Date.parse(time)).sort((a, b) => a - b);
  // Backups under a minute after the one before are one run; a run's time is its first backup's.
  const runs: number[] = [];
  for (let i = 0; i < times.length; i++) {
    if (i === 0 || (times[i] as number) - (times[i - 1] as number) >= MIN_GAP_SECONDS * 1000)
      runs.push(times[i] as number);
  }
  const gaps = runs.slice(1).map((time, i) => (time - (runs[i] as number)) / 1000);
  if (gaps.length < MIN_BACKUPS_TO_INFER - 1) return undefined;
  const every = Math.round(median(gaps));
  return { every, graceSeconds: defaultGraceSeconds(every) };
}

/**
 * When the backup after one taken at `reference` is due: `every` later, or the first cron time after it. A
 * backup taken a little before its cron time counts for it (up to min(15 min, grace, a quarter of the
 * schedule's gap) early: a clock a little fast, a manifest stamped as the job started).
 */
export function nextDue(expectation: Expectation, reference: Date): Date {
  if (!isCron(expectation)) return new Date(reference.getTime() + expectation.every * 1000);
  const times = CronExpressionParser.parse(expectation.cron, { tz: expectation.timeZone, currentDate: reference });
  const first = times.next().toDate();
  const gapSeconds = (times.next().toDate().getTime() - first.getTime()) / 1000;
  const tolerance = Math.min(CRON_EARLY_TOLERANCE_SECONDS, expectation.graceSeconds, gapSeconds / 4);
  return CronExpressionParser.parse(expectation.cron, {
    tz: expectation.timeZone,
    currentDate: new Date(reference.getTime() + tolerance * 1000),
  })
    .next()
    .toDate();
}

/** `every 24h + 2h grace`, `0 2 * * * Europe/Berlin + 2h grace`: as alerts and `sources list` say it. */
export function describeExpectation(expectation: Expectation): string {
  const grace = `${formatDuration(expectation.graceSeconds)} grace`;
  return isCron(expectation)
    ? `${expectation.cron} ${expectation.timeZone} + ${grace}`
    : `every ${formatDuration(expectation.every)} + ${grace}`;
}
