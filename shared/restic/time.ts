import { ResticFormatError } from "./errors";

/**
 * restic writes times with Go's RFC 3339 encoding: up to nine fractional digits (trailing zeros dropped, no
 * dot when zero) and the writer's zone offset, e.g. `2025-01-02T03:04:05.123456789+01:00`.
 */
const RESTIC_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

const NANOSECONDS_PER_SECOND = 1_000_000_000n;
const NANOSECONDS_PER_MILLISECOND = 1_000_000n;

export interface ResticTime {
  /** Exactly as restic wrote it: keep it to show, and to write back unchanged. */
  original: string;
  /**
   * Truncated to the millisecond, so two times in the same millisecond compare equal (never reversed).
   * Order by `sortableUtc` or `epochNanoseconds` where that matters.
   */
  date: Date;
  /** UTC with all nine fractional digits, e.g. `2025-01-02T02:04:05.123456789Z`: string order is time order. */
  sortableUtc: string;
  epochNanoseconds: bigint;
}

export function parseResticTime(text: string): ResticTime {
  const match = RESTIC_TIME.exec(text);
  if (!match) throw new ResticFormatError(`"${text}" is not a restic (RFC 3339) time`);
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const fraction = (match[7] ?? "").padEnd(9, "0");
  const [sign, offsetHours, offsetMinutes] = [match[8], Number(match[9] ?? 0), Number(match[10] ?? 0)];

  const wallClock = new Date(0);
  // setUTCFullYear, because Date.UTC maps years 0-99 to 1900-1999.
  wallClock.setUTCFullYear(year, month - 1, day);
  wallClock.setUTCHours(hour, minute, second, 0);
  const fieldsRoundTrip =
    wallClock.getUTCFullYear() === year &&
    wallClock.getUTCMonth() === month - 1 &&
    wallClock.getUTCDate() === day &&
    wallClock.getUTCHours() === hour &&
    wallClock.getUTCMinutes() === minute &&
    wallClock.getUTCSeconds() === second;
  if (!fieldsRoundTrip || offsetHours > 23 || offsetMinutes > 59) {
    throw new ResticFormatError(`"${text}" is not a valid date and time`);
  }

  const offsetSeconds = (sign === "-" ? -1 : 1) * (offsetHours * 3600 + offsetMinutes * 60);
  const utcSeconds = BigInt(wallClock.getTime() / 1000 - offsetSeconds);
  const epochNanoseconds = utcSeconds * NANOSECONDS_PER_SECOND + BigInt(fraction);
  const utcWholeSeconds = new Date(Number(utcSeconds) * 1000).toISOString().slice(0, 19);
  return {
    original: text,
    date: new Date(Number(floorDivide(epochNanoseconds, NANOSECONDS_PER_MILLISECOND))),
    sortableUtc: `${utcWholeSeconds}.${fraction}Z`,
    epochNanoseconds,
  };
}

export function isResticTime(text: string): boolean {
  try {
    parseResticTime(text);
    return true;
  } catch {
    return false;
  }
}

/** Orders two restic times to the nanosecond, whatever zone offsets they were written with. */
export function compareResticTimes(a: string, b: string): number {
  const [left, right] = [parseResticTime(a).epochNanoseconds, parseResticTime(b).epochNanoseconds];
  return left < right ? -1 : left > right ? 1 : 0;
}

/** A time restic reads back: Go parses `toISOString()`'s millisecond UTC form as RFC 3339. */
export function formatResticTime(date: Date): string {
  return date.toISOString();
}

function floorDivide(dividend: bigint, divisor: bigint): bigint {
  const quotient = dividend / divisor;
  return dividend % divisor !== 0n && dividend < 0n ? quotient - 1n : quotient;
}
