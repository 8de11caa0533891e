/**
 * Seeded generators for the retention differential test: snapshot timelines (one per host) and restic
 * `forget` command lines. Everything derives from one seed, so a failing run can be replayed exactly.
 */

/** mulberry32: small, fast, and good enough to pick test cases. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

type Random = () => number;

const between = (random: Random, low: number, high: number) => low + Math.floor(random() * (high - low + 1));
const pick = <T>(random: Random, values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
const chance = (random: Random, probability: number) => random() < probability;

export interface PlannedBackup {
  host: string;
  /** IANA zone restic runs in, so the stored time carries that zone's offset. */
  timeZone: string;
  /** "YYYY-MM-DD HH:MM:SS" on that zone's wall clock, as `restic backup --time` takes it. */
  wallTime: string;
  tags: string[];
  /** Which of the source directories is backed up (group-by paths needs more than one). */
  source: "a" | "b";
}

/**
 * Whole-hour, half-hour and 45-minute offsets, with and without daylight saving, on both sides of UTC, so
 * that a snapshot's calendar day often differs from its UTC day.
 */
const TIME_ZONES = [
  "UTC",
  "Europe/Berlin",
  "America/New_York",
  "America/Los_Angeles",
  "Asia/Kolkata",
  "Asia/Kathmandu",
  "Australia/Lord_Howe",
  "Pacific/Chatham",
  "America/St_Johns",
  "Pacific/Kiritimati",
  "Pacific/Pago_Pago",
] as const;

export const TAG_VOCABULARY = ["daily", "weekly", "manual", "prod", "db"] as const;

const MINUTE = 1;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

type Pattern = "frequent" | "daily" | "sparse" | "year-boundary" | "mixed";

/** A gap back to the previous snapshot, in minutes; 0 makes an exact duplicate (same second). */
function gapMinutes(random: Random, pattern: Pattern): number {
  const roll = random();
  switch (pattern) {
    case "frequent":
      if (roll < 0.1) return 0;
      return roll < 0.7 ? between(random, 1, 59) : between(random, 1 * HOUR, 6 * HOUR);
    case "daily":
      if (roll < 0.05) return 0;
      if (roll < 0.15) return between(random, 1, 50);
      if (roll < 0.85) return DAY + between(random, -3 * HOUR, 3 * HOUR);
      if (roll < 0.95) return between(random, 2 * DAY, 3 * DAY);
      return between(random, 7 * DAY, 14 * DAY);
    case "sparse":
      if (roll < 0.4) return between(random, 7 * DAY, 28 * DAY);
      if (roll < 0.8) return between(random, 30 * DAY, 120 * DAY);
      return between(random, 30 * DAY, 420 * DAY);
    case "year-boundary":
      if (roll < 0.1) return 0;
      return roll < 0.6 ? between(random, 1 * HOUR, 12 * HOUR) : between(random, 12 * HOUR, 2 * DAY);
    default: {
      const scale = pick(random, [0, MINUTE, HOUR, DAY, 7 * DAY, 30 * DAY, 365 * DAY]);
      return scale === 0 ? 0 : between(random, scale, scale * 3);
    }
  }
}

/**
 * One timeline per host, newest snapshot first. Each host's snapshots all have the host's index as their
 * seconds (hence at most 60 hosts): every zone offset is whole minutes, so snapshots of different hosts can
 * never share an instant, and the only exact ties are a host's own deliberate duplicates, identical in
 * everything the policy looks at. restic loads snapshots in parallel, so the order of ties is its own
 * random choice; identical ties make that choice invisible.
 */
export function generateTimelines(random: Random, hostCount: number, now: Date): PlannedBackup[] {
  if (hostCount > 60) throw new RangeError("at most 60 hosts: each owns one value of the seconds field");
  const backups: PlannedBackup[] = [];
  const nowMinutes = Math.floor(now.getTime() / 60_000);
  const earliest = Math.floor(Date.UTC(2019, 0, 1) / 60_000);
  for (let hostIndex = 0; hostIndex < hostCount; hostIndex++) {
    const host = `host-${String(hostIndex).padStart(2, "0")}`;
    const timeZone = pick(random, TIME_ZONES);
    const pattern = pick<Pattern>(random, ["frequent", "daily", "daily", "sparse", "year-boundary", "mixed", "mixed"]);
    const sizeRoll = random();
    const count =
      sizeRoll < 0.15 ? between(random, 1, 3) : sizeRoll < 0.75 ? between(random, 8, 35) : between(random, 40, 70);
    const twoSources = chance(random, 0.2);
    // Minutes on the wall clock; a few hosts start in the future, so restic's "latest" must skip those.
    let cursor: number;
    if (hostIndex % 20 === 7) {
      cursor = nowMinutes + between(random, 3 * DAY, 200 * DAY);
    } else if (pattern === "year-boundary") {
      const year = between(random, 2019, now.getUTCFullYear() - 1);
      cursor = Math.floor(Date.UTC(year + 1, 0, between(random, 1, 10)) / 60_000) + between(random, 0, DAY);
    } else {
      cursor = between(random, earliest + 400 * DAY, nowMinutes - 3 * DAY);
    }
    let previous: PlannedBackup | undefined;
    for (let made = 0; made < count; made++) {
      const gap = made === 0 ? 0 : gapMinutes(random, pattern);
      cursor -= gap;
      // Stay well clear of now: restic's "now" and ours are a few seconds apart.
      if (Math.abs(cursor - nowMinutes) < 2 * DAY) continue;
      if (previous && gap === 0) {
        backups.push({ ...previous, tags: [...previous.tags] });
        continue;
      }
      const wall = new Date(cursor * 60_000 + hostIndex * 1000).toISOString();
      const tags = chance(random, 0.5)
        ? []
        : [...new Set(Array.from({ length: between(random, 1, 2) }, () => pick(random, TAG_VOCABULARY)))];
      previous = {
        host,
        timeZone,
        wallTime: `${wall.slice(0, 10)} ${wall.slice(11, 19)}`,
        tags,
        source: twoSources && chance(random, 0.5) ? "b" : "a",
      };
      backups.push(previous);
    }
  }
  return backups;
}

const COUNT_FLAGS = [
  ["--keep-last", "-l"],
  ["--keep-hourly", "-H"],
  ["--keep-daily", "-d"],
  ["--keep-weekly", "-w"],
  ["--keep-monthly", "-m"],
  ["--keep-yearly", "-y"],
] as const;

const WITHIN_FLAGS = [
  "--keep-within",
  "--keep-within-hourly",
  "--keep-within-daily",
  "--keep-within-weekly",
  "--keep-within-monthly",
  "--keep-within-yearly",
] as const;

export const GROUPINGS = ["host", "host", "host", "host", "host,paths", "host,tags", "tags", "paths", ""] as const;

/** A restic duration, sometimes in unusual spellings restic accepts (parts out of order, padded, repeated). */
function randomDuration(random: Random): { text: string; zero: boolean } {
  if (chance(random, 0.04)) return { text: pick(random, ["0d", "0y0h"]), zero: true };
  const parts: string[] = [];
  if (chance(random, 0.15)) parts.push(`${between(random, 1, 2)}y`);
  if (chance(random, 0.35)) parts.push(`${between(random, 1, 14)}m`);
  if (chance(random, 0.5)) parts.push(`${between(random, 1, 45)}d`);
  if (chance(random, 0.35)) parts.push(`${between(random, 1, 72)}h`);
  if (parts.length === 0) parts.push(`${between(random, 1, 10)}d`);
  if (chance(random, 0.2)) parts.reverse();
  let text = parts.join("");
  if (chance(random, 0.05)) text = `0${text}`;
  if (chance(random, 0.05)) text = ` ${text} `;
  return { text, zero: false };
}

/** A random `restic forget` retention command line with at least one active rule, and its grouping. */
/**
 * Policies every run compares whatever the seed: rules of zero (which restic refuses as "no policy"), zero
 * mixed with real rules, and unlimited.
 */
export const FIXED_POLICY_ARGVS: readonly (readonly string[])[] = [
  ["--keep-last", "0"],
  ["--keep-daily", "0"],
  ["--keep-within", "0d"],
  ["--keep-within-daily", "0d0h"],
  ["-l", "0", "-H", "0", "-d", "0", "-w", "0", "-m", "0", "-y", "0", "--keep-within", "0y0m0d0h"],
  ["--keep-daily", "0", "--keep-weekly", "1"],
  ["--keep-last", "0", "--keep-within", "2d"],
  ["--keep-last", "unlimited"],
  ["--keep-yearly", "unlimited", "--keep-daily", "0", "--group-by", "host"],
  ["--keep-within", "0d", "--keep-tag", "daily", "--group-by", "host,tags"],
];

export function generatePolicyArgv(random: Random): string[] {
  // Now and then every rule zero: restic refuses that as no policy at all.
  if (chance(random, 0.05)) {
    const argv: string[] = [];
    for (const [long, short] of COUNT_FLAGS)
      if (chance(random, 0.4)) argv.push(chance(random, 0.5) ? long : short, "0");
    for (const flag of WITHIN_FLAGS) if (chance(random, 0.2)) argv.push(flag, pick(random, ["0d", "0h", "0y0m0d0h"]));
    if (argv.length === 0) argv.push("--keep-last", "0");
    return [...argv, "--group-by", pick(random, GROUPINGS)];
  }
  // Now and then keep-tag alone, which can leave a group with nothing: restic then refuses the whole run.
  if (chance(random, 0.05)) {
    return ["--keep-tag", pick(random, TAG_VOCABULARY), "--group-by", pick(random, GROUPINGS)];
  }
  const argv: string[] = [];
  let active = false;
  for (const [long, short] of COUNT_FLAGS) {
    if (!chance(random, 0.3)) continue;
    const roll = random();
    const value =
      roll < 0.1
        ? "unlimited"
        : roll < 0.15
          ? "0"
          : roll < 0.65
            ? String(between(random, 1, 5))
            : String(between(random, 6, 40));
    if (value !== "0") active = true;
    // Every spelling pflag accepts: -d7, --keep-daily=7, -d 7, --keep-daily 7.
    const spelling = random();
    if (spelling < 0.2) argv.push(`${short}${value}`);
    else if (spelling < 0.35) argv.push(`${long}=${value}`);
    else argv.push(spelling < 0.65 ? short : long, value);
  }
  for (const flag of WITHIN_FLAGS) {
    if (!chance(random, 0.15)) continue;
    const duration = randomDuration(random);
    if (!duration.zero) active = true;
    argv.push(flag, duration.text);
  }
  if (chance(random, 0.25)) {
    active = true;
    for (let list = between(random, 1, 2); list > 0; list--) {
      const tags = chance(random, 0.05)
        ? [""]
        : Array.from({ length: between(random, 1, 2) }, () => pick(random, TAG_VOCABULARY));
      argv.push("--keep-tag", tags.join(chance(random, 0.2) ? ", " : ","));
    }
  }
  if (!active) {
    const [long] = pick(random, COUNT_FLAGS);
    argv.push(long, String(between(random, 1, 10)));
  }
  argv.push("--group-by", pick(random, GROUPINGS));
  return argv;
}
