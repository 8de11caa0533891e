import type { CatalogStore } from "../catalog/store";
import type { HeldKey } from "../keys/master-key";
import { summariseProblems } from "./evaluate-dumpset";

/**
 * After the service comes to hold more master keys (`key import`, `key register`, `key combine --store`),
 * sets flagged for naming a key it did not hold are judged again: those naming a key now held lose the
 * flag and its warning. Reads each dump-set source's timeline (queries, no scan); returns the sets cleared.
 */
export async function recheckMasterKeyFlags(
  catalog: Pick<CatalogStore, "listSources" | "listBySource" | "setStatus">,
  held: readonly HeldKey[],
  at: Date,
): Promise<string[]> {
  const heldIds = new Set(held.flatMap((key) => [key.keyId, key.fingerprint]));
  const cleared: string[] = [];
  for (const source of await catalog.listSources()) {
    if (source.kind !== "dumpset") continue;
    for (const entry of await catalog.listBySource(source.source, { limit: Number.MAX_SAFE_INTEGER })) {
      if (entry.kind !== "dumpset" || entry.masterKeyHeld !== false || entry.status === "REMOVED") continue;
      if (!entry.masterKeyId || !heldIds.has(entry.masterKeyId)) continue;
      await catalog.setStatus(entry.id, entry.status, summariseProblems(entry.problems), at, { masterKeyHeld: true });
      cleared.push(entry.id);
    }
  }
  return cleared;
}
