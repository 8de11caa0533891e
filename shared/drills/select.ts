import type { BackupEntry } from "../catalog/entry";
import type { DrillPlan } from "./plan";

/**
 * The backup a drill restores, as AWS Backup restore testing picks a recovery point: the newest COMPLETE
 * backup within the last N days (LATEST), or any of them at random (RANDOM). A dump set needs its pinned
 * versions (committed sets have them).
 */
export function selectBackup(
  entries: readonly BackupEntry[],
  selection: DrillPlan["selection"],
  now: Date,
  random: () => number = Math.random,
): BackupEntry | undefined {
  const since = now.getTime() - selection.withinDays * 86_400_000;
  const candidates = entries
    .filter((entry) => drillable(entry) && Date.parse(entry.createdAt) >= since)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  if (candidates.length === 0) return undefined;
  if (selection.mode === "LATEST") return candidates[0];
  return candidates[Math.min(candidates.length - 1, Math.floor(random() * candidates.length))];
}

/** A backup a drill can restore: COMPLETE, and for a dump set, every component pinned. */
export function drillable(entry: BackupEntry): boolean {
  if (entry.status !== "COMPLETE") return false;
  return entry.kind === "restic" || entry.components.every((component) => component.versionId !== null);
}
