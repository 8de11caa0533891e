import type { AlertStore } from "../catalog/alerts";
import type { ProvenRestorable, SourceEntry } from "../catalog/entry";
import type { CatalogStore } from "../catalog/store";
import { mapConcurrently } from "../concurrency";
import { describeError } from "../errors";
import type { Log } from "../log";
import { healthAlert } from "./alerts";
import { evaluateHealth, type HealthDecision, type HealthVerdict } from "./evaluate";
import {
  emptyHealth,
  type HealthHistory,
  type HealthSettings,
  type HealthState,
  HISTORY_MAX_AGE_SECONDS,
  type StoredHealth,
} from "./model";
import type { HealthStore } from "./ports";

/** How many of a source's newest backups are read for its health (its COMPLETE ones among them count). */
export const HEALTH_HISTORY = 30;

export interface HealthRunDependencies {
  catalog: Pick<CatalogStore, "listSources" | "listBySource">;
  health: HealthStore;
  alerts: Pick<AlertStore, "raiseOnce">;
  log: Log;
  now: () => Date;
}

export interface HealthRunOptions {
  /** Only these sources (default: every source of the catalog). */
  sources?: readonly string[];
  /** Judge and say what would happen, record and raise nothing (`sources check --now`, `sources list`). */
  dryRun?: boolean;
  concurrency?: number;
}

export interface SourceHealthResult {
  verdict: HealthVerdict;
  kind: SourceEntry["kind"];
  repository: string | null;
  lastProvenRestorable: ProvenRestorable | null;
  paused: boolean;
  /** The state recorded before this run (null: never), and since when. */
  recorded: { state: HealthState; since: string } | null;
  transition: { from: HealthState | null; to: HealthState } | null;
  /** The alert this run raised (or, dry, would raise): its kind and subject. */
  alert: { kind: string; subject: string } | null;
  /** Another evaluation recorded this source's change first: this one recorded and raised nothing. */
  lostRace: boolean;
}

export interface HealthRunReport {
  now: string;
  dryRun: boolean;
  sources: SourceHealthResult[];
  /** Sources whose evaluation failed (a read or a write): the others were judged; they are tried next run. */
  failed: { source: string; error: string }[];
}

/** The restic repository a source belongs to: its snapshots say, else its name (`restic:<repository> …`). */
export function repositoryOf(source: string, repositories: readonly (string | undefined)[]): string | null {
  return repositories.find((name) => name !== undefined) ?? /^restic:(\S+)/.exec(source)?.[1] ?? null;
}

/**
 * One evaluation of every source (or of some): each source's newest COMPLETE backups (a Query of its
 * timeline) against its expectation; each state change recorded once (a conditional write on the previous
 * state) and its alert raised by the run that recorded it (raiseOnce, keyed by source + state + since); a
 * STALE source reminded at most every N hours. An alert recorded but not yet raised (a run that stopped
 * between the two) is raised by the next run.
 */
export async function evaluateSources(
  deps: HealthRunDependencies,
  options: HealthRunOptions = {},
): Promise<HealthRunReport> {
  const now = deps.now();
  const wanted = options.sources ? new Set(options.sources) : undefined;
  const [sources, stored, repositories] = await Promise.all([
    deps.catalog.listSources(),
    wanted && wanted.size === 1
      ? deps.health.get([...wanted][0] as string).then((one) => (one ? [one] : []))
      : deps.health.list(),
    deps.health.listRepositories(),
  ]);
  const storedBySource = new Map(stored.map((health) => [health.source, health]));
  const selected = sources.filter((source) => !wanted || wanted.has(source.source));
  const failed: HealthRunReport["failed"] = [];
  const results = await mapConcurrently(selected, options.concurrency ?? 8, async (source) => {
    const one = {
      source,
      stored: storedBySource.get(source.source) ?? emptyHealth(source.source),
      repositories,
      now,
      dryRun: options.dryRun ?? false,
    };
    try {
      return await evaluateOne(deps, one);
    } catch (error) {
      // One source's failure does not keep the others from being judged.
      deps.log.error("could not evaluate a source's health", { source: source.source, error: describeError(error) });
      failed.push({ source: source.source, error: describeError(error) });
      return undefined;
    }
  });
  return {
    now: now.toISOString(),
    dryRun: options.dryRun ?? false,
    sources: results.filter((result): result is SourceHealthResult => result !== undefined),
    failed,
  };
}

interface OneSource {
  source: SourceEntry;
  stored: StoredHealth;
  repositories: Map<string, HealthSettings>;
  now: Date;
  dryRun: boolean;
}

/** What a source's summary says about its timeline: when it changes, the history kept for it is read again. */
export function historyFingerprint(source: SourceEntry): string {
  const { latest, latestComplete, updatedAt } = source;
  return [latest?.id ?? "-", latest?.status ?? "-", latestComplete?.id ?? "-", updatedAt].join("|");
}

/**
 * The source's newest COMPLETE backups: the history kept from an earlier run while the source's summary
 * has not changed and it is younger than HISTORY_MAX_AGE_SECONDS, else a Query of its timeline (kept for
 * the next runs unless this one is dry). Reading every timeline every run was most of what the service cost.
 */
async function historyOf(deps: HealthRunDependencies, one: OneSource): Promise<HealthHistory> {
  const { source, stored, now } = one;
  const fingerprint = historyFingerprint(source);
  const kept = stored.history;
  if (
    kept &&
    kept.fingerprint === fingerprint &&
    now.getTime() - Date.parse(kept.readAt) < HISTORY_MAX_AGE_SECONDS * 1000
  ) {
    return kept;
  }
  const backups = await deps.catalog.listBySource(source.source, { limit: HEALTH_HISTORY });
  const history: HealthHistory = {
    fingerprint,
    readAt: now.toISOString(),
    complete: backups
      .filter((backup) => backup.status === "COMPLETE")
      .map((backup) => ({ id: backup.id, createdAt: backup.createdAt })),
    repository: repositoryOf(
      source.source,
      backups.map((backup) => (backup.kind === "restic" ? backup.repository : undefined)),
    ),
  };
  if (!one.dryRun) {
    try {
      await deps.health.recordHistory(source.source, history);
    } catch (error) {
      // Only a cache: the next run reads the timeline again.
      deps.log.warn("could not keep a source's history", { source: source.source, error: describeError(error) });
    }
  }
  return history;
}

async function evaluateOne(deps: HealthRunDependencies, one: OneSource): Promise<SourceHealthResult> {
  const { source, stored, now } = one;
  const history = await historyOf(deps, one);
  const complete = [...history.complete];
  // The source's own pointer finds the newest COMPLETE backup even behind many newer incomplete ones.
  const newest = source.latestComplete;
  if (newest && !complete.some((backup) => backup.id === newest.id)) complete.push(newest);
  const repository = history.repository;
  const decision = evaluateHealth({
    source: source.source,
    complete,
    stored,
    repository: repository ? (one.repositories.get(repository) ?? null) : null,
    now,
  });
  const pending = healthAlert(decision, source.lastProvenRestorable, now) ?? null;
  const result: SourceHealthResult = {
    verdict: decision.verdict,
    kind: source.kind,
    repository,
    lastProvenRestorable: source.lastProvenRestorable,
    paused: stored.paused,
    recorded: stored.status ? { state: stored.status.state, since: stored.status.since } : null,
    transition: decision.transition,
    alert: pending ? { kind: pending.alert.kind, subject: pending.alert.subject } : null,
    lostRace: false,
  };
  if (one.dryRun) return result;
  await raisePending(deps, stored, now);
  if (!decision.transition && !decision.reminder) return result;
  if (!(await deps.health.recordStatus(source.source, decision.previous, decision.next, pending))) {
    deps.log.info("another evaluation recorded this source's health first", { source: source.source });
    return { ...result, alert: null, lostRace: true };
  }
  if (decision.transition) logTransition(deps.log, decision);
  if (pending) await raisePending(deps, { ...stored, pending }, now);
  return result;
}

/** Raises the alert a recorded change still has to tell (once, by its key), then forgets it. */
async function raisePending(deps: HealthRunDependencies, stored: StoredHealth, now: Date): Promise<void> {
  if (!stored.pending) return;
  await deps.alerts.raiseOnce(stored.pending.once, stored.pending.alert, now);
  await deps.health.clearPending(stored.source, stored.pending.once);
}

function logTransition(log: Log, decision: HealthDecision): void {
  log.info("source health changed", {
    source: decision.verdict.source,
    from: decision.transition?.from ?? null,
    to: decision.transition?.to,
    since: decision.next.since,
    ageSeconds: decision.verdict.ageSeconds,
  });
}
