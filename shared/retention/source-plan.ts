import type { BackupEntry } from "../catalog/entry";
import { shortBackupId } from "../catalog/find";
import { applyPolicy, EMPTY_POLICY_MESSAGE, isEmptyPolicy } from "./engine";
import type { RetentionPolicy } from "./policy";
import type { SafetyFloors } from "./settings";

/** One backup in a plan, with why it is kept or removed. */
export interface PlannedBackup {
  id: string;
  time: string;
  /** Why it is kept (restic's words, then the floors'), or why it goes. */
  reasons: string[];
}

/**
 * What retention decided for one source. The `group` field has the shape of one group of
 * `restic forget --json` (keep, remove, reasons; items carry their id).
 */
export interface SourcePlan {
  source: string;
  kind: "dumpset" | "restic";
  plannedAt: string;
  policy: RetentionPolicy;
  /** null when floors were switched off (`--no-safety-floors`). */
  floors: SafetyFloors | null;
  /**
   * REFUSED: the circuit breaker (or restic's own refusal to empty a group) stopped the run; nothing is removed
   * and an alert is raised. NO_POLICY: nothing is judged, because no policy is set or the policy has no rule.
   */
  status: "OK" | "REFUSED" | "NO_POLICY";
  /** Why the run was refused, or why there is no policy; null when status is OK. */
  refusal: string | null;
  keep: PlannedBackup[];
  remove: PlannedBackup[];
  /** Backups retention does not judge: not COMPLETE (failed, unreadable, already gone). */
  untouched: { id: string; status: string }[];
}

export interface PlanInputs {
  source: string;
  kind: "dumpset" | "restic";
  entries: readonly BackupEntry[];
  policy: RetentionPolicy | undefined;
  floors: SafetyFloors | null;
  /** The newest backup of the source whose restore drill passed, if any. */
  newestDrillPassed?: string | null;
  now: Date;
}

/**
 * Plans one source: restic's forget semantics over its COMPLETE backups (the source is one group
 * already), then the safety floors move backups back to keep, then the circuit breaker may refuse
 * the whole run. Pure: the caller loads the entries and applies the result.
 */
export function planSource(inputs: PlanInputs): SourcePlan {
  const { entries, floors, now } = inputs;
  const base = {
    source: inputs.source,
    kind: inputs.kind,
    plannedAt: now.toISOString(),
    policy: inputs.policy ?? {},
    floors,
  };
  const candidates = entries.filter((entry) => entry.status === "COMPLETE");
  const untouched = entries
    .filter((entry) => entry.status !== "COMPLETE")
    .map((entry) => ({ id: entry.id, status: entry.status }));
  const items = candidates.map((entry) => ({ id: entry.id, time: retentionTime(entry), tags: entry.tags, entry }));
  // restic refuses a policy without a rule (every count 0, every within zero, no keep-tag) rather than remove
  // everything; so do we, whether the policy was typed just now or stored by an older version.
  const noPolicy = !inputs.policy
    ? "no retention policy set for this source"
    : isEmptyPolicy(inputs.policy)
      ? EMPTY_POLICY_MESSAGE
      : undefined;
  if (!inputs.policy || noPolicy) {
    return {
      ...base,
      status: "NO_POLICY",
      refusal: noPolicy ?? null,
      keep: items.map((item) => ({ id: item.id, time: item.time, reasons: [noPolicy ?? ""] })),
      remove: [],
      untouched,
    };
  }

  const result = applyPolicy(items, { ...inputs.policy, groupBy: { host: false, paths: false, tags: false } }, { now });
  const reasons = new Map<string, string[]>(result.reasons.map((reason) => [reason.snapshot.id, [...reason.matches]]));
  const keep = new Set(result.keep.map((item) => item.id));

  if (floors) {
    const held = (id: string, why: string) => {
      keep.add(id);
      reasons.set(id, [...(reasons.get(id) ?? []), `safety floor: ${why}`]);
    };
    // items come newest first from the engine; sort here too so the floor does not depend on input order.
    const newestFirst = [...items].sort((a, b) => b.entry.createdAt.localeCompare(a.entry.createdAt));
    for (const item of newestFirst.slice(0, floors.keepNewestComplete)) {
      if (!keep.has(item.id)) held(item.id, `one of the newest ${floors.keepNewestComplete} complete backups`);
    }
    if (floors.keepNewestDrillPassed && inputs.newestDrillPassed) {
      const drilled = items.find((item) => item.id === inputs.newestDrillPassed);
      if (drilled && !keep.has(drilled.id)) held(drilled.id, "newest backup with a passing restore drill");
    }
    for (const item of items) {
      const hold = item.tags.find((tag) => floors.legalHoldTags.includes(tag));
      if (hold && !keep.has(item.id)) held(item.id, `legal hold (tag ${hold})`);
    }
  }

  const ordered = [...items].sort((a, b) => b.entry.createdAt.localeCompare(a.entry.createdAt));
  const kept = ordered
    .filter((item) => keep.has(item.id))
    .map((item) => ({ id: item.id, time: item.time, reasons: reasons.get(item.id) ?? [] }));
  const removed = ordered
    .filter((item) => !keep.has(item.id))
    .map((item) => ({ id: item.id, time: item.time, reasons: ["not kept by the policy"] }));

  // restic refuses to empty a group whatever the flags (only keep-tag rules matching nothing can), floors or not.
  const refusal =
    items.length > 0 && kept.length === 0
      ? `refusing to delete last snapshot of source ${inputs.source}: the policy keeps none of its ${items.length} complete backups`
      : floors
        ? circuitBreaker(removed, items.length, floors, now, ordered)
        : null;
  return { ...base, status: refusal ? "REFUSED" : "OK", refusal, keep: kept, remove: removed, untouched };
}

function circuitBreaker(
  removed: PlannedBackup[],
  total: number,
  floors: SafetyFloors,
  now: Date,
  ordered: { id: string; entry: BackupEntry }[],
): string | null {
  if (total > 0 && removed.length / total > floors.maxRemovalFraction) {
    return `would remove ${removed.length} of ${total} complete backups (${Math.round((removed.length / total) * 100)}%), more than the ${Math.round(floors.maxRemovalFraction * 100)}% allowed`;
  }
  const youngest = now.getTime() - floors.protectNewerThanHours * 3_600_000;
  const createdAt = new Map(ordered.map((item) => [item.id, item.entry.createdAt]));
  const tooNew = removed.filter((item) => new Date(createdAt.get(item.id) ?? 0).getTime() > youngest);
  if (tooNew.length > 0) {
    return `would remove ${tooNew.length} backup${tooNew.length === 1 ? "" : "s"} younger than ${floors.protectNewerThanHours} h (${tooNew[0]?.id}${tooNew.length > 1 ? ", …" : ""})`;
  }
  return null;
}

/** restic's snapshot time keeps the writer's zone, which decides its calendar buckets, as in restic. */
function retentionTime(entry: BackupEntry): string {
  return entry.kind === "restic" && entry.resticTime ? entry.resticTime : entry.createdAt;
}

export interface PlanDiff {
  /** Removed now, kept (or not present) by the previous plan. */
  newlyRemoved: string[];
  /** Kept now, removed by the previous plan (a floor or a policy change saved them). */
  noLongerRemoved: string[];
  /** Backups that arrived since the previous plan. */
  newBackups: string[];
}

export function diffPlans(previous: SourcePlan | undefined, next: SourcePlan): PlanDiff {
  const before = new Set(previous?.remove.map((item) => item.id) ?? []);
  const seen = new Set([...(previous?.keep ?? []), ...(previous?.remove ?? [])].map((item) => item.id));
  return {
    newlyRemoved: next.remove.filter((item) => !before.has(item.id)).map((item) => item.id),
    noLongerRemoved: next.keep.filter((item) => before.has(item.id)).map((item) => item.id),
    newBackups: previous
      ? [...next.keep, ...next.remove].filter((item) => !seen.has(item.id)).map((item) => item.id)
      : [],
  };
}

/** The plan as `restic forget --json` prints one group: keep, remove and reasons, items carrying their id. */
export function asResticForgetGroup(plan: SourcePlan) {
  const item = (planned: PlannedBackup) => ({
    id: planned.id,
    short_id: shortBackupId({ id: planned.id, kind: plan.kind }),
    time: planned.time,
  });
  return {
    tags: null,
    host: "",
    paths: null,
    source: plan.source,
    keep: plan.keep.map(item),
    remove: plan.remove.map(item),
    reasons: plan.keep.map((planned) => ({ snapshot: item(planned), matches: planned.reasons })),
  };
}
