import type { ResticDuration } from "./duration";

/**
 * A snapshot time read exactly: the instant (epoch seconds + nanoseconds, since restic stores nanoseconds
 * and a JS number cannot hold them since 1970 in one value) and the wall clock in the snapshot's own UTC
 * offset, which is where restic's calendar buckets live (Go's `t.Day()` is the day in `t`'s zone).
 */
export interface SnapshotTime {
  epochSeconds: number;
  nanoseconds: number;
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  offsetSeconds: number;
  /** Days since 1970-01-01 of the wall-clock date (not of the UTC date). */
  civilDay: number;
}

/**
 * Reads RFC 3339 / ISO 8601 extended times as restic writes them ("2024-01-01T10:00:00.123456789+01:00",
 * "...Z") or JS does (`toISOString()`), also with a space for the "T" and a "+0100" offset. The offset is
 * required: it decides which day, week and month a snapshot falls in. Returns undefined when `text` is not
 * such a time, so a hot loop can report its own error without a throw per item.
 */
export function parseSnapshotTime(text: string): SnapshotTime | undefined {
  return readTime(text) ? { ...scratch } : undefined;
}

/** The fields of the last successful `readTime`, reused so that a million parses allocate nothing. */
const scratch: SnapshotTime = {
  epochSeconds: 0,
  nanoseconds: 0,
  year: 0,
  month: 0,
  day: 0,
  hour: 0,
  minute: 0,
  second: 0,
  offsetSeconds: 0,
  civilDay: 0,
};

/** Parses `text` into `scratch`; false when it is not a time with an offset. */
export function readTime(text: string): boolean {
  const length = text.length;
  if (length < 20) return false;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  if ((year | month | day | hour | minute | second) < 0) return false;
  const separator = text.charCodeAt(10);
  if (
    text.charCodeAt(4) !== 45 /* - */ ||
    text.charCodeAt(7) !== 45 ||
    (separator !== 84 /* T */ && separator !== 116 /* t */ && separator !== 32) /* space */ ||
    text.charCodeAt(13) !== 58 /* : */ ||
    text.charCodeAt(16) !== 58
  ) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59) return false;
  // Go's time.Parse rejects a leap second (":60") as out of range, and so does restic.
  if (second > 59) return false;

  let position = 19;
  let nanoseconds = 0;
  if (text.charCodeAt(position) === 46 /* . */ || text.charCodeAt(position) === 44 /* , */) {
    position++;
    const start = position;
    let scale = 100_000_000;
    while (position < length) {
      const digit = text.charCodeAt(position) - 48;
      if (digit < 0 || digit > 9) break;
      if (position - start >= 9) return false;
      nanoseconds += digit * scale;
      scale /= 10;
      position++;
    }
    if (position === start) return false;
  }

  let offsetSeconds = 0;
  const zone = text.charCodeAt(position);
  if (zone === 90 /* Z */ || zone === 122 /* z */) {
    position++;
  } else if (zone === 43 /* + */ || zone === 45 /* - */) {
    const offsetHours = digits(text, position + 1, 2);
    const colon = text.charCodeAt(position + 3) === 58 ? 1 : 0;
    const offsetMinutes = digits(text, position + 3 + colon, 2);
    if (offsetHours < 0 || offsetMinutes < 0 || offsetHours > 23 || offsetMinutes > 59) return false;
    offsetSeconds = (zone === 45 ? -1 : 1) * (offsetHours * 3600 + offsetMinutes * 60);
    position += 5 + colon;
  } else {
    return false;
  }
  if (position !== length) return false;

  scratch.year = year;
  scratch.month = month;
  scratch.day = day;
  scratch.hour = hour;
  scratch.minute = minute;
  scratch.second = second;
  scratch.nanoseconds = nanoseconds;
  scratch.offsetSeconds = offsetSeconds;
  scratch.civilDay = daysFromCivil(year, month, day);
  scratch.epochSeconds = scratch.civilDay * 86400 + hour * 3600 + minute * 60 + second - offsetSeconds;
  return true;
}

/** The fields of the last successful `readTime` (valid until the next call). */
export function lastReadTime(): Readonly<SnapshotTime> {
  return scratch;
}

/** The decimal number in `text[start, start + count)`, or -1 when any of those is not a digit. */
function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let position = start; position < start + count; position++) {
    const digit = text.charCodeAt(position) - 48;
    if (!(digit >= 0 && digit <= 9)) return -1;
    value = value * 10 + digit;
  }
  return value;
}

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`). `day` may lie
 * outside the month, the way Go's `time.Date` normalises it, and `month` must be 1..12.
 */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const monthFromMarch = month > 2 ? month - 3 : month + 9;
  const dayOfYear = Math.floor((153 * monthFromMarch + 2) / 5);
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468 + (day - 1);
}

/**
 * Go's `ISOWeek` as restic's `yw` bucket uses it, encoded `isoYear * 100 + week`: the week belongs to the
 * year holding its Thursday, so 2024-12-30 is week 1 of 2025 and 2021-01-03 is week 53 of 2020.
 */
export function isoYearWeek(civilDay: number, year: number): number {
  const isoWeekday = ((((civilDay + 3) % 7) + 7) % 7) + 1; // 1970-01-01 was a Thursday
  const thursday = civilDay - isoWeekday + 4;
  let isoYear = year;
  let yearStart = daysFromCivil(year, 1, 1);
  if (thursday < yearStart) {
    isoYear = year - 1;
    yearStart = daysFromCivil(isoYear, 1, 1);
  } else if (thursday >= daysFromCivil(year + 1, 1, 1)) {
    isoYear = year + 1;
    yearStart = daysFromCivil(isoYear, 1, 1);
  }
  return isoYear * 100 + Math.floor((thursday - yearStart) / 7) + 1;
}

/**
 * restic's keep-within cutoff, `latest.AddDate(-y, -m, -d).Add(-h * time.Hour)`, as an instant. AddDate works
 * on the wall clock in `latest`'s offset and lets Go's `time.Date` normalise the result: months carry into
 * years, and a day past the month's end runs into the next month (March 31 minus 1m is March 2 or 3).
 */
export function keepWithinCutoff(latest: Readonly<SnapshotTime>, duration: ResticDuration): number {
  const monthIndex = latest.month - 1 - duration.months;
  const year = latest.year - duration.years + Math.floor(monthIndex / 12);
  const month = (((monthIndex % 12) + 12) % 12) + 1;
  const civilDay = daysFromCivil(year, month, latest.day - duration.days);
  return (
    civilDay * 86400 +
    latest.hour * 3600 +
    latest.minute * 60 +
    latest.second -
    latest.offsetSeconds -
    duration.hours * 3600
  );
}

/** Go's zero `time.Time` (0001-01-01 00:00:00 UTC): restic's "latest" when no snapshot is in the past. */
export const GO_ZERO_TIME: Readonly<SnapshotTime> = {
  epochSeconds: daysFromCivil(1, 1, 1) * 86400,
  civilDay: daysFromCivil(1, 1, 1),
  nanoseconds: 0,
  year: 1,
  month: 1,
  day: 1,
  hour: 0,
  minute: 0,
  second: 0,
  offsetSeconds: 0,
};
