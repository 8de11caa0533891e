import { InvalidInputError } from "../errors";
import type { ResticRepository } from "../restic/repository";
import type { BackupEntry } from "./entry";
import type { CatalogStore } from "./store";

export class BackupNotFoundError extends InvalidInputError {}
export class AmbiguousBackupIdError extends InvalidInputError {}

/** A restic snapshot's short id, as restic prints it. */
const RESTIC_PREFIX = /^[0-9a-f]{4,63}$/;
/** The start of a dump-set id (`20261203T020000Z-0123456789ab`): at least its date. */
const SET_ID_PREFIX = /^\d{8}(T\d{0,6}Z?)?(-[0-9a-f]{0,12})?$/;

export interface FindDependencies {
  catalog: Pick<CatalogStore, "getBackup" | "listByRepository" | "listBySource" | "listSources">;
  repositories: { list(): Promise<ResticRepository[]> };
}

/**
 * The short form of a backup's id that `findBackup` takes back: restic's 8-digit short id for a snapshot,
 * the whole id for a dump set (its date alone is shared by every set of that day).
 */
export function shortBackupId(entry: Pick<BackupEntry, "id" | "kind">): string {
  return entry.kind === "restic" ? entry.id.slice(0, 8) : entry.id;
}

/**
 * Finds a backup by its id or any unique prefix of it: a restic short id (`4f3a9c1e`) or the start of a
 * dump-set id (`20261203T0200`). Every command that takes an id uses this, so they all accept the same
 * forms. Prefixes are looked up through the repositories' and sources' timelines (queries, never a scan).
 */
export async function findBackup(id: string, deps: FindDependencies): Promise<BackupEntry> {
  const exact = await deps.catalog.getBackup(id);
  if (exact) return exact;
  const candidates: BackupEntry[] = [];
  if (RESTIC_PREFIX.test(id)) {
    for (const repository of await deps.repositories.list()) {
      const snapshots = await deps.catalog.listByRepository(repository.name, { limit: Number.MAX_SAFE_INTEGER });
      candidates.push(...snapshots.filter((entry) => entry.id.startsWith(id)));
    }
  }
  if (SET_ID_PREFIX.test(id)) {
    for (const source of await deps.catalog.listSources()) {
      if (source.kind !== "dumpset") continue;
      const sets = await deps.catalog.listBySource(source.source, { limit: Number.MAX_SAFE_INTEGER });
      candidates.push(...sets.filter((entry) => entry.id.startsWith(id)));
    }
  }
  const unique = [...new Map(candidates.map((entry) => [entry.id, entry])).values()];
  if (unique.length === 1) return unique[0] as BackupEntry;
  if (unique.length > 1) {
    const shown = unique.slice(0, 5).map((entry) => entry.id);
    throw new AmbiguousBackupIdError(
      "ambiguous-id",
      `${id} matches ${unique.length} backups (${shown.join(", ")}${unique.length > 5 ? ", …" : ""}); give more of the id`,
    );
  }
  throw new BackupNotFoundError(
    "not-found",
    `no backup with id ${id} in the catalog; restorable catalog list shows the backups and their ids`,
  );
}
