import { planRetention, type RetentionItem } from "../shared/retention/engine";
import { DEFAULT_DUMPSET_POLICY, type RetentionPolicy } from "../shared/retention/policy";
import { type BenchContext, type Benchmark, type BenchResult, median, round2 } from "./harness";

const ROUNDS = 3;
const MILLION = 1_000_000;
const SCALES = [10_000, 100_000, MILLION] as const;

/** A busy workspace's restic retention: every rule kind at once, keep-tag included. */
const RESTIC_STYLE_POLICY: RetentionPolicy = {
  keepLast: 10,
  keepHourly: 48,
  keepDaily: 14,
  keepWeekly: 8,
  keepMonthly: 24,
  keepYearly: "unlimited",
  keepWithinDaily: "1m",
  keepTags: [["keep"]],
};

/**
 * `planRetention` over a million backups of one source (one every 10 minutes for 19 years, 1% tagged
 * "keep"), handed over in random order so the engine has to sort, beside a plain sort of the same
 * timestamps (Date.parse each, then a numeric Float64Array sort): the least any planner must do. Then the
 * same plan at 10k, 100k and 1M backups, per backup, where n log n shows as a slowly growing cost per item.
 */
export const retentionPlan: Benchmark = {
  name: "retention-plan",
  async run(context: BenchContext): Promise<BenchResult[]> {
    const results: BenchResult[] = [];
    const perItem: { count: number; plan: number; sort: number }[] = [];
    for (const count of SCALES) {
      context.log(`${count} backups: generating ...`);
      const items = backupsInRandomOrder(count, 20_251_122 + count);
      const sortSeconds = timeRounds(() => plainSort(items), count);
      const planSeconds = timeRounds(() => planRetention(items, DEFAULT_DUMPSET_POLICY), count);
      context.log(`${count} backups: plan ${planSeconds.toFixed(3)} s, plain sort ${sortSeconds.toFixed(3)} s`);
      perItem.push({ count, plan: planSeconds, sort: sortSeconds });
      if (count !== MILLION) continue;

      const resticSeconds = timeRounds(() => planRetention(items, RESTIC_STYLE_POLICY), count);
      context.log(`${count} backups: restic-style plan ${resticSeconds.toFixed(3)} s`);
      for (const [policyName, seconds] of [
        ["the dump-set policy (30 daily, 12 weekly, 12 monthly, yearly)", planSeconds],
        ["a restic-style policy (last, hourly, daily, weekly, monthly, yearly, within-daily, tag)", resticSeconds],
      ] as const) {
        results.push({
          name: `retention plan, 1M backups of one source, ${policyName}`,
          value: round2(seconds),
          unit: "s",
          reference: {
            name: "plain sort of the same 1M timestamps (parse + numeric sort)",
            value: round2(sortSeconds),
            unit: "s",
          },
          ratio: round2(seconds / sortSeconds),
          target: "< 2 s",
          met: seconds < 2,
        });
      }
    }

    const baseline = perItem[0] as { count: number; plan: number; sort: number };
    for (const { count, plan, sort } of perItem) {
      const microseconds = (plan / count) * 1e6;
      const baselineMicroseconds = (baseline.plan / baseline.count) * 1e6;
      // n log n allows the cost per item to grow by log(n)/log(10k); twice that leaves room for caches.
      const allowed = baselineMicroseconds * 2 * (Math.log(count) / Math.log(baseline.count));
      results.push({
        name: `retention plan per backup at ${count.toLocaleString("en-US")} backups (dump-set policy)`,
        value: round2(microseconds),
        unit: "µs/backup",
        reference: {
          name: `plain sort per timestamp at ${count.toLocaleString("en-US")}`,
          value: round2((sort / count) * 1e6),
          unit: "µs/timestamp",
        },
        ratio: round2(plan / sort),
        target:
          count === baseline.count
            ? "baseline of the scaling"
            : `≤ ${round2(allowed)} µs/backup (2 × the 10k cost × log n / log 10k)`,
        met: microseconds <= allowed,
      });
    }
    return results;
  },
};

/**
 * Median seconds per run over ROUNDS rounds, after one untimed round so that the JIT has done its work.
 * Small inputs repeat within a round (about a million backups' worth), or timer noise and JIT tiers
 * would dominate the per-backup figure at 10k.
 */
function timeRounds(work: () => unknown, count: number): number {
  const repetitions = Math.max(1, Math.round(MILLION / count));
  const round = () => {
    const started = performance.now();
    for (let repetition = 0; repetition < repetitions; repetition++) work();
    return (performance.now() - started) / 1000 / repetitions;
  };
  round();
  return median(Array.from({ length: ROUNDS }, round));
}

function plainSort(items: readonly RetentionItem[]): Float64Array {
  const times = new Float64Array(items.length);
  for (let index = 0; index < items.length; index++) times[index] = Date.parse((items[index] as RetentionItem).time);
  return times.sort();
}

/**
 * One backup every 10 minutes (with up to 5 minutes of jitter) back from 2025-11-22, shuffled before the
 * objects are made, as a store that does not return backups in time order would hand them over.
 */
function backupsInRandomOrder(count: number, seed: number): RetentionItem[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
  const newest = Date.parse("2025-11-22T02:00:00Z");
  const slots = Array.from({ length: count }, (_, slot) => slot);
  for (let index = count - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [slots[index], slots[other]] = [slots[other] as number, slots[index] as number];
  }
  return slots.map((slot) => {
    const time = new Date(newest - slot * 600_000 - Math.floor(random() * 300_000)).toISOString();
    return {
      id: `${slot.toString(16).padStart(8, "0")}`,
      time,
      hostname: "codebolt-prod",
      paths: ["/backups/codebolt"],
      ...(random() < 0.01 ? { tags: ["keep"] } : {}),
    };
  });
}
