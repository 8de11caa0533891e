import { InvalidRetentionPolicyError } from "./errors";

/** restic's `Duration`: calendar units, applied with Go's `AddDate` (so "1m" is a month, not 30 days). */
export interface ResticDuration {
  years: number;
  months: number;
  days: number;
  hours: number;
}

/**
 * restic computes `latest.Add(time.Hour * -hours)` in Go's int64 nanoseconds, which silently overflows past
 * this many hours; refuse rather than pretend to agree with a wrapped-around cutoff.
 */
export const MAX_DURATION_HOURS = 2_562_047;

/**
 * restic's `ParseDuration` (internal/restic/duration.go), quirks included: units may come in any order and a
 * repeated unit overwrites the earlier one ("1d2d" is 2 days), the whole string is trimmed but no space may
 * separate the parts, a number may be negative, and "" is the zero duration (which restic treats as unset).
 */
export function parseResticDuration(text: string): ResticDuration {
  const duration: ResticDuration = { years: 0, months: 0, days: 0, hours: 0 };
  let rest = text.trim();
  while (rest !== "") {
    const negative = rest.startsWith("-");
    if (negative) rest = rest.slice(1);
    let end = 0;
    while (end < rest.length && rest.charCodeAt(end) >= 48 && rest.charCodeAt(end) <= 57) end++;
    if (end === 0) throw new InvalidRetentionPolicyError(`invalid duration "${text}": no number found`);
    const magnitude = Number(rest.slice(0, end));
    // restic's strconv.Atoi panics past int64; past 2^53 a JS number would silently round instead.
    if (!Number.isSafeInteger(magnitude)) {
      throw new InvalidRetentionPolicyError(`invalid duration "${text}": ${rest.slice(0, end)} is too large`);
    }
    const value = negative ? -magnitude : magnitude;
    rest = rest.slice(end);
    if (rest === "")
      throw new InvalidRetentionPolicyError(`invalid duration "${text}": no unit found after number ${value}`);
    switch (rest[0]) {
      case "y":
        duration.years = value;
        break;
      case "m":
        duration.months = value;
        break;
      case "d":
        duration.days = value;
        break;
      case "h":
        duration.hours = value;
        break;
      default:
        throw new InvalidRetentionPolicyError(
          `invalid duration "${text}": invalid unit "${rest[0]}" found after number ${value} (use y, m, d or h)`,
        );
    }
    rest = rest.slice(1);
  }
  return duration;
}

/**
 * A duration as `restic forget` accepts it for `--keep-within*`: parsable, with no negative part (restic:
 * "durations containing negative values are not allowed"), and hours restic can add without overflowing.
 */
export function parseKeepWithinDuration(text: string, flag: string): ResticDuration {
  let duration: ResticDuration;
  try {
    duration = parseResticDuration(text);
  } catch (error) {
    throw new InvalidRetentionPolicyError(`${flag}: ${(error as Error).message}`, { cause: error });
  }
  if (duration.years < 0 || duration.months < 0 || duration.days < 0 || duration.hours < 0) {
    throw new InvalidRetentionPolicyError(`${flag}: "${text}" has a negative part, which restic does not allow`);
  }
  if (duration.hours > MAX_DURATION_HOURS) {
    throw new InvalidRetentionPolicyError(
      `${flag}: "${text}" has more than ${MAX_DURATION_HOURS} hours, past what restic can compute`,
    );
  }
  return duration;
}

/** restic's `Duration.String()`: always in y, m, d, h order with zero parts left out, as it prints reasons. */
export function formatResticDuration(duration: ResticDuration): string {
  let text = "";
  if (duration.years !== 0) text += `${duration.years}y`;
  if (duration.months !== 0) text += `${duration.months}m`;
  if (duration.days !== 0) text += `${duration.days}d`;
  if (duration.hours !== 0) text += `${duration.hours}h`;
  return text;
}

export function isZeroDuration(duration: ResticDuration): boolean {
  return duration.years === 0 && duration.months === 0 && duration.days === 0 && duration.hours === 0;
}
