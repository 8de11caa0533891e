import type { Catalog } from "../../../shared/catalog/dynamo/open";
import type { BackupEntry, SourceEntry } from "../../../shared/catalog/entry";
import { findBackup as findBackupById } from "../../../shared/catalog/find";
import type { GroupByField, ResticRepository } from "../../../shared/restic/repository";
import type { SourceRow } from "../../output/backups";
import { repositoryOfSource } from "../names";

/** What `catalog list` selects by. */
export interface BackupFilter {
  source?: string;
  /** restic's tag filter: each value is a comma-separated list a backup must carry all of. */
  tag?: string[];
  repo?: string;
  groupBy?: GroupByField[];
  limit: number;
}

/** restic's tag filter: each --tag value is a comma-separated list a backup must carry all of. */
function tagLists(values: string[] | undefined): string[][] {
  return (values ?? []).map((value) =>
    value
      .split(",")
      .map((tag) => tag.trim())
      .filter((tag) => tag !== ""),
  );
}

export function isUnfiltered(filter: BackupFilter): boolean {
  return !filter.source && (filter.tag ?? []).length === 0 && !filter.repo && !filter.groupBy;
}

/** The backups the filter selects, newest first, at most `limit`. */
export async function selectBackups(catalog: Catalog, filter: BackupFilter): Promise<BackupEntry[]> {
  const lists = tagLists(filter.tag);
  const wanted = (backup: BackupEntry) =>
    (lists.length === 0 || lists.some((list) => list.every((tag) => backup.tags.includes(tag)))) &&
    (!filter.source || backup.source === filter.source) &&
    (!filter.repo || (backup.kind === "restic" && backup.repository === filter.repo));
  const candidates = await candidatesFor(catalog, filter, lists);
  const unique = new Map(candidates.filter(wanted).map((backup) => [backup.id, backup]));
  return [...unique.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, filter.limit);
}

/** Reads through the narrowest timeline, to be filtered after; each timeline query is bounded, none scans. */
async function candidatesFor(catalog: Catalog, filter: BackupFilter, lists: string[][]): Promise<BackupEntry[]> {
  const store = catalog.backups;
  const reach = Math.max(filter.limit, 1000);
  if (filter.source) return store.listBySource(filter.source, { limit: reach });
  if (filter.repo) return store.listByRepository(filter.repo, { limit: reach });
  if (lists.length > 0) {
    const tagged = lists
      .filter((l) => l.length > 0)
      .map((list) => store.listByTag(list[0] as string, { limit: reach }));
    return (await Promise.all(tagged)).flat();
  }
  // --group-by alone: every snapshot of every registered restic repository, as restic snapshots shows one repository's.
  return everySnapshot(catalog, reach);
}

async function everySnapshot(catalog: Catalog, limitPerRepository: number): Promise<BackupEntry[]> {
  const repositories = await catalog.repositories.list();
  const listed = repositories.map((r) => catalog.backups.listByRepository(r.name, { limit: limitPerRepository }));
  return (await Promise.all(listed)).flat();
}

export interface GroupKey {
  hostname: string;
  paths: string[];
  tags: string[];
}

export interface BackupGroup {
  group_key: GroupKey;
  snapshots: BackupEntry[];
}

/** Groups as restic does for snapshots --group-by, oldest first within a group, in restic's JSON shape. */
export function groupBackups(backups: BackupEntry[], fields: GroupByField[]): BackupGroup[] {
  const groups = new Map<string, BackupGroup>();
  for (const backup of backups) {
    const group_key: GroupKey = {
      hostname: fields.includes("host") ? (backup.hostname ?? "") : "",
      paths: fields.includes("paths") && backup.kind === "restic" ? [...backup.paths].sort() : [],
      tags: fields.includes("tags") ? [...backup.tags].sort() : [],
    };
    const id = JSON.stringify(group_key);
    const group = groups.get(id) ?? { group_key, snapshots: [] };
    group.snapshots.push(backup);
    groups.set(id, group);
  }
  for (const group of groups.values()) group.snapshots.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  return [...groups.values()];
}

/** A backup by its full id or a unique short form of it (shared/catalog/find.ts: every command takes the same forms). */
export function findBackup(catalog: Catalog, id: string): Promise<BackupEntry> {
  return findBackupById(id, { catalog: catalog.backups, repositories: catalog.repositories });
}

/**
 * Snapshots restic wrote while their repository could not be opened (a wrong password) are not counted towards
 * any source (their group is unknown until they decrypt), so a source's latest would show an older COMPLETE
 * snapshot as if it were the newest. The repository's health says since when it is unreadable: a restic source
 * whose latest backup is older than that is shown as `UNREADABLE (newest)`.
 */
export function withNewestAttempts(
  sources: SourceEntry[],
  repositories: Pick<ResticRepository, "name" | "health">[],
): SourceRow[] {
  const health = new Map(repositories.map((repository) => [repository.name, repository.health]));
  return sources.map((source) => {
    const repository = source.kind === "restic" ? repositoryOfSource(source.source) : undefined;
    const state = repository ? health.get(repository) : undefined;
    const stale =
      state?.status === "UNREADABLE" &&
      (!source.latest || Date.parse(source.latest.createdAt) < Date.parse(state.since));
    const newest = stale && state && repository ? { repository, ...state, status: "UNREADABLE" as const } : null;
    return { ...source, newest };
  });
}
