import type { Catalog } from "../../../shared/catalog/dynamo/open";
import type { BackupEntry } from "../../../shared/catalog/entry";
import { RestorableError } from "../../../shared/errors";
import type { GroupByField } from "../../../shared/restic/repository";

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

/** A backup by its full id, or a restic snapshot by a unique short id as restic users quote them. */
export async function findBackup(catalog: Catalog, id: string): Promise<BackupEntry> {
  const backup = (await catalog.backups.getBackup(id)) ?? (await findByShortId(catalog, id));
  if (!backup) throw new RestorableError("not-found", `no backup with id ${id} in the catalog`);
  return backup;
}

/** Looks for a unique prefix among the registered repositories' snapshots. */
async function findByShortId(catalog: Catalog, id: string): Promise<BackupEntry | undefined> {
  if (!/^[0-9a-f]{4,63}$/.test(id)) return undefined;
  const matches = (await everySnapshot(catalog, 10_000)).filter((backup) => backup.id.startsWith(id));
  if (matches.length > 1)
    throw new RestorableError("ambiguous-id", `${id} matches ${matches.length} snapshots; give more of the id`);
  return matches[0];
}
