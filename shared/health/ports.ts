import type { HealthHistory, HealthSettings, HealthStatus, PendingAlert, StoredHealth } from "./model";

/** Settings are kept for one source, or for every source of a restic repository that has none of its own. */
export type HealthScope = { kind: "source"; source: string } | { kind: "repository"; repository: string };

/**
 * Source health in the catalog (the DynamoDB implementation is catalog/dynamo/health-store.ts). State
 * changes are conditional writes on the previous state and since: of two concurrent evaluations, one
 * records a change and the other is told it lost (false).
 */
export interface HealthStore {
  /** Every source that has anything kept (a listing, no scan). */
  list(): Promise<StoredHealth[]>;
  get(source: string): Promise<StoredHealth | undefined>;
  /** Every restic repository's default settings, by repository. */
  listRepositories(): Promise<Map<string, HealthSettings>>;
  getSettings(scope: HealthScope): Promise<HealthSettings | undefined>;
  /** Changes the given settings (an expectation of null: inferred again), keeping the others and the state. */
  putSettings(scope: HealthScope, changes: Partial<HealthSettings>): Promise<HealthSettings>;
  setPaused(source: string, paused: boolean, at: Date): Promise<void>;
  /**
   * Records `next` (with the alert it tells, still to raise) if the recorded status is still `previous`
   * (none: never recorded); false when another evaluation changed it first.
   */
  recordStatus(
    source: string,
    previous: HealthStatus | null,
    next: HealthStatus,
    pending: PendingAlert | null,
  ): Promise<boolean>;
  /** Keeps the history an evaluation read (a cache: the last writer wins, each wrote what it read). */
  recordHistory(source: string, history: HealthHistory): Promise<void>;
  /** The pending alert was raised: forget it (unless another one replaced it since). */
  clearPending(source: string, once: string): Promise<void>;
}
