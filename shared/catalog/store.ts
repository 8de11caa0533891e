import type { BackupEntry, BackupStatus, LastDrill, ProvenRestorable, SourceEntry } from "./entry";

export interface ListOptions {
  limit?: number;
}

export type RecordOutcome = "written" | "kept-existing";

/**
 * The catalog as the domain sees it. The DynamoDB implementation is in ./dynamo-store.ts; tests of
 * pure logic can use any other implementation.
 */
export interface CatalogStore {
  /**
   * Records the result of evaluating a backup. Idempotent: the same evaluation twice leaves one entry.
   * An INCOMPLETE evaluation never replaces a COMPLETE or CORRUPT entry of the same manifest version
   * (it can only be a late look at a set that has since arrived), and REMOVED / FORGOTTEN entries are
   * history that evaluations do not rewrite.
   */
  recordBackup(entry: BackupEntry, manifestVersion: string | null): Promise<RecordOutcome>;
  /**
   * Many evaluations at once (a repository's backfill), with recordBackup's rules judged against what each
   * entry's item holds when read, and written in batches: a few requests for hundreds of entries. An entry
   * changed between the read and the write (a forget racing the backfill) is corrected by the next event or
   * reconcile; single events take recordBackup's conditional write.
   */
  recordBackups(batch: readonly { entry: BackupEntry; manifestVersion: string | null }[]): Promise<RecordOutcome[]>;
  /** Changes the status of an existing entry (retention, forget), keeping everything else. */
  setStatus(
    id: string,
    status: BackupStatus,
    reason: string | null,
    at: Date,
    changes?: Partial<BackupEntry>,
  ): Promise<BackupEntry | undefined>;
  /**
   * restic rewrote `previousId` as `next` (already recorded): the previous entry becomes REWRITTEN, pointing
   * at `next`, and its source's latest pointers move to `next`. Idempotent.
   */
  recordRewrite(previousId: string, next: BackupEntry, at: Date): Promise<void>;
  /** Records that a dump set's committed component was put back by a copy, whose version is now current. */
  recordHealedComponent(id: string, component: string, healedVersionId: string): Promise<void>;
  /**
   * Records a finished drill on the backup it drilled, and, when it passed, on its source as the latest
   * proof that the source restores.
   */
  recordDrill(id: string, drill: LastDrill, proven: ProvenRestorable | null): Promise<void>;
  /** Replaces a backup's tags (a legal hold, say), keeping everything else. */
  setTags(id: string, tags: string[]): Promise<BackupEntry | undefined>;
  getBackup(id: string): Promise<BackupEntry | undefined>;
  /** Newest first. */
  listBySource(source: string, options?: ListOptions): Promise<BackupEntry[]>;
  /** Newest first. */
  listByTag(tag: string, options?: ListOptions): Promise<BackupEntry[]>;
  /** Newest first: every snapshot of a restic repository. */
  listByRepository(repository: string, options?: ListOptions): Promise<BackupEntry[]>;
  listSources(): Promise<SourceEntry[]>;
}
