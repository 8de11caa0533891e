import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planRetention, type RetentionGroup, type RetentionItem } from "../../shared/retention/engine";
import { EmptyRetentionPolicyError, RetentionWouldRemoveAllError } from "../../shared/retention/errors";
import { parseResticFlags } from "../../shared/retention/policy";
import {
  type ResticForgetGroupJson,
  type ResticSnapshotJson,
  RetentionResticRepository,
} from "../support/retention-restic";
import {
  FIXED_POLICY_ARGVS,
  generatePolicyArgv,
  generateTimelines,
  type PlannedBackup,
  seededRandom,
} from "../support/retention-timelines";
import { resticBinary } from "../support/tools";

/**
 * The engine against real restic: one repository holds a timeline per host (made with `restic backup
 * --time --host`), and every generated policy runs as `restic forget --dry-run --json` on it (a dry run
 * changes nothing, so all policies see the same snapshots), grouped by host, host+paths, host+tags, tags,
 * paths or not at all. Per group, the engine must keep and remove the same snapshots for the same reasons.
 *
 * RETENTION_SEED=<n> replays a run; RETENTION_HOSTS and RETENTION_POLICIES scale it.
 */
const SEED = Number(process.env.RETENTION_SEED ?? Math.floor(Math.random() * 2 ** 31));
const HOSTS = Number(process.env.RETENTION_HOSTS ?? 60);
const POLICIES = Number(process.env.RETENTION_POLICIES ?? 60);
const BACKUP_CONCURRENCY = 10;
const MINIMUM_COMPARISONS = 2000;

describe(`retention engine vs restic forget (seed ${SEED})`, () => {
  let workspace: string;
  let repository: RetentionResticRepository;
  let snapshots: RetentionItem[];
  let planned: PlannedBackup[];
  const random = seededRandom(SEED);

  beforeAll(async () => {
    const binary = resticBinary();
    if (!binary) throw new Error("restic ≥ 0.16 not found: npm test builds it into .tools/bin (Go needed)");
    console.log(`retention differential: seed ${SEED} (replay with RETENTION_SEED=${SEED})`);
    workspace = await mkdtemp(path.join(tmpdir(), "restorable-retention-"));
    const sources = { a: path.join(workspace, "source-a"), b: path.join(workspace, "source-b") };
    for (const source of Object.values(sources)) {
      await mkdir(source);
      await writeFile(path.join(source, "data"), "retention differential test\n");
    }
    repository = await RetentionResticRepository.create(binary, path.join(workspace, "repository"));

    const started = performance.now();
    planned = generateTimelines(random, HOSTS, new Date());
    let next = 0;
    const worker = async () => {
      while (next < planned.length) {
        const backup = planned[next++] as PlannedBackup;
        await repository.backup({
          source: sources[backup.source],
          time: backup.wallTime,
          host: backup.host,
          tags: backup.tags,
          timeZone: backup.timeZone,
        });
      }
    };
    await Promise.all(Array.from({ length: BACKUP_CONCURRENCY }, worker));
    snapshots = (await repository.snapshots()).map(toItem);
    console.log(
      `retention differential: ${snapshots.length} snapshots on ${HOSTS} hosts made by restic backup in ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }, 600_000);

  afterAll(async () => {
    if (workspace) await rm(workspace, { recursive: true, force: true });
  });

  it("has the snapshots it planned, with exact ties only between identical snapshots", () => {
    expect(snapshots).toHaveLength(planned.length);
    // The comparison below counts identical snapshots as interchangeable; check that ties are only those.
    const byInstant = new Map<number, Set<string>>();
    for (const snapshot of snapshots) {
      const instant = Date.parse(snapshot.time);
      const kinds = byInstant.get(instant) ?? new Set<string>();
      kinds.add(`${snapshot.hostname} ${snapshot.paths?.join(",")} ${tieClass(snapshot)}`);
      byInstant.set(instant, kinds);
    }
    const mixedTies = [...byInstant.entries()].filter(([, kinds]) => kinds.size > 1);
    expect(mixedTies, `seed ${SEED}`).toEqual([]);
  });

  it("keeps and removes exactly what restic forget does, for the same reasons", async () => {
    const started = performance.now();
    let comparisons = 0;
    let refusals = 0;
    let emptyPolicies = 0;
    const failures: string[] = [];
    const reasonsSeen = new Map<string, number>();
    const runs = FIXED_POLICY_ARGVS.length + POLICIES;
    for (let run = 0; run < runs; run++) {
      const argv =
        run < FIXED_POLICY_ARGVS.length ? [...(FIXED_POLICY_ARGVS[run] as string[])] : generatePolicyArgv(random);
      const policy = parseResticFlags(argv);
      // Taken before restic runs; no snapshot lies within days of now, so the few seconds between do not matter.
      const now = new Date();
      let resticGroups: ResticForgetGroupJson[];
      try {
        resticGroups = await repository.forgetDryRun(argv);
      } catch (error) {
        const stderr = String((error as { stderr?: unknown }).stderr ?? error);
        if (stderr.includes("no policy was specified, no snapshots will be removed")) {
          emptyPolicies++;
          comparisons++;
          if (!throwsError(() => planRetention(snapshots, policy, { now }), EmptyRetentionPolicyError)) {
            failures.push(`restic forget ${argv.join(" ")}: restic refused an empty policy, the engine did not`);
          }
          continue;
        }
        if (!stderr.includes("refusing to delete last snapshot of snapshot group")) throw error;
        refusals++;
        comparisons++;
        if (!throwsError(() => planRetention(snapshots, policy, { now }), RetentionWouldRemoveAllError)) {
          failures.push(`restic forget ${argv.join(" ")}: restic refused to empty a group, the engine did not`);
        }
        continue;
      }
      let ours: RetentionGroup<RetentionItem>[];
      try {
        ours = planRetention(snapshots, policy, { now });
      } catch (error) {
        failures.push(`restic forget ${argv.join(" ")}: restic planned, the engine threw ${String(error)}`);
        continue;
      }
      const oursByKey = new Map(ours.map((group) => [groupKey(group), group]));
      if (oursByKey.size !== resticGroups.length) {
        failures.push(
          `restic forget ${argv.join(" ")}: restic made ${resticGroups.length} groups, engine ${ours.length}`,
        );
      }
      for (const resticGroup of resticGroups) {
        comparisons++;
        for (const reason of resticGroup.reasons ?? []) {
          for (const match of reason.matches) tallyReason(reasonsSeen, match);
        }
        const key = groupKey(resticGroup);
        const group = oursByKey.get(key);
        const expected = describeOutcome(resticGroup.reasons ?? [], resticGroup.remove ?? []);
        const actual = group ? describeOutcome(group.reasons, group.remove) : "(no such group)";
        if (actual !== expected) {
          failures.push(
            `restic forget ${argv.join(" ")}, group ${key}:\n  restic: ${expected.slice(0, 2000)}\n  engine: ${actual.slice(0, 2000)}`,
          );
        }
      }
    }
    console.log(
      `retention differential: ${comparisons} group×policy comparisons (${refusals} refusals, ${emptyPolicies} ` +
        `empty policies refused) over ${runs} policies in ${((performance.now() - started) / 1000).toFixed(1)} s, ` +
        `${failures.length} differences`,
    );
    console.log(
      `retention differential: reasons restic gave: ${[...reasonsSeen].map(([kind, count]) => `${kind} ×${count}`).join(", ")}`,
    );
    expect(failures.slice(0, 5), `seed ${SEED} (replay with RETENTION_SEED=${SEED})`).toEqual([]);
    // The fixed zero policies alone give restic five "no policy" refusals to match.
    expect(emptyPolicies).toBeGreaterThanOrEqual(5);
    // Not vacuous: at full size, every kind of rule was exercised (small replays may miss some).
    if (POLICIES < 30) return;
    for (const kind of ["last snapshot", "daily snapshot", "has tags", "within", "daily within"]) {
      expect(reasonsSeen.get(kind) ?? 0, `seed ${SEED}: no "${kind}"`).toBeGreaterThan(0);
    }
    expect(
      [...reasonsSeen.keys()].some((kind) => kind.startsWith("oldest ")),
      `seed ${SEED}`,
    ).toBe(true);
    expect(comparisons).toBeGreaterThanOrEqual(Math.min(MINIMUM_COMPARISONS, HOSTS * POLICIES * 0.5));
  }, 600_000);
});

function toItem(snapshot: ResticSnapshotJson): RetentionItem {
  return {
    id: snapshot.id,
    time: snapshot.time,
    hostname: snapshot.hostname,
    paths: snapshot.paths,
    ...(snapshot.tags ? { tags: snapshot.tags } : {}),
  };
}

function groupKey(group: { host: string; paths: string[] | null; tags: string[] | null }): string {
  return JSON.stringify([group.host, group.paths, group.tags]);
}

/**
 * Snapshots with the same time string (instant and offset) and tags are interchangeable to every rule,
 * and restic orders such ties at random, so they are compared as a class, not by id.
 */
function tieClass(snapshot: { time: string; tags?: string[] | undefined }): string {
  return `${snapshot.time} [${[...(snapshot.tags ?? [])].sort().join(",")}]`;
}

/** Kept snapshots with their reasons and the removed ones, as sorted multisets of tie classes. */
function describeOutcome(
  reasons: readonly { snapshot: { time: string; tags?: string[] | undefined }; matches: string[] }[],
  removed: readonly { time: string; tags?: string[] | undefined }[],
): string {
  const kept = reasons.map((reason) => `${tieClass(reason.snapshot)} ${JSON.stringify(reason.matches)}`).sort();
  const gone = removed.map(tieClass).sort();
  return `keep ${kept.length}: ${kept.join("; ")} | remove ${gone.length}: ${gone.join("; ")}`;
}

/** "daily within 1m" → "daily within", "has tags [a, b]" → "has tags": the rule, not its parameters. */
function tallyReason(tally: Map<string, number>, match: string): void {
  const kind = match.replace(/ \[.*\]$/, "").replace(/ [0-9ymdh]+$/, "");
  tally.set(kind, (tally.get(kind) ?? 0) + 1);
}

function throwsError(plan: () => unknown, kind: new (...args: never[]) => Error): boolean {
  try {
    plan();
    return false;
  } catch (error) {
    return error instanceof kind;
  }
}
