import {
  type EffectiveExpectation,
  type Expectation,
  type ExpectationOrigin,
  inferExpectation,
  nextDue,
} from "./expectation";
import {
  DEFAULT_REMIND_EVERY_SECONDS,
  DOWN_STATES,
  type HealthSettings,
  type HealthState,
  type HealthStatus,
  type StoredHealth,
} from "./model";

/** What one source's health is judged from; nothing else (no clock, no store): a pure function of it. */
export interface HealthInput {
  source: string;
  /** The source's recent COMPLETE backups (only those count as arrived), any order. */
  complete: readonly { id: string; createdAt: string }[];
  /** What is kept about it: its own settings, paused, its recorded status (emptyHealth() for none). */
  stored: StoredHealth;
  /** The settings of its restic repository, for a restic source whose repository has some. */
  repository: HealthSettings | null;
  now: Date;
}

/** The source's health now, as `sources list` shows it and alerts tell it. */
export interface HealthVerdict {
  source: string;
  state: HealthState;
  expectation: EffectiveExpectation | null;
  lastBackup: { id: string; at: string } | null;
  ageSeconds: number | null;
  /** When the next backup is (was) due, and when it turns (turned) STALE; null without an expectation. */
  dueAt: string | null;
  staleAt: string | null;
  remindEverySeconds: number;
}

export type HealthAlertKind = "source-late" | "source-stale" | "source-stale-reminder" | "source-recovered";

export interface HealthDecision {
  verdict: HealthVerdict;
  previous: HealthStatus | null;
  /** The status to record: a new one for a transition or a reminder, else the previous one. */
  next: HealthStatus;
  transition: { from: HealthState | null; to: HealthState } | null;
  /** Whether this is a reminder for a source that stays STALE. */
  reminder: boolean;
  /** What to tell people about, if anything. */
  notify: HealthAlertKind | null;
}

/**
 * The expectation a source is judged by, most specific first: its own, its repository's default, the one its
 * history shows (median gap), or none.
 */
export function effectiveExpectation(input: Omit<HealthInput, "now">): EffectiveExpectation | null {
  const own = input.stored.settings.expectation;
  if (own) return { ...own, origin: "source" };
  if (input.repository?.expectation) return { ...input.repository.expectation, origin: "repository" };
  const inferred = inferExpectation(input.complete.map((backup) => backup.createdAt));
  return inferred ? { ...inferred, origin: "inferred" } : null;
}

function newestOf(complete: HealthInput["complete"]): { id: string; at: string } | null {
  let newest: { id: string; createdAt: string } | undefined;
  for (const backup of complete) if (!newest || backup.createdAt > newest.createdAt) newest = backup;
  return newest ? { id: newest.id, at: newest.createdAt } : null;
}

function latestTime(...times: (string | null | undefined)[]): Date | null {
  const values = times.filter((time): time is string => Boolean(time)).map((time) => Date.parse(time));
  return values.length > 0 ? new Date(Math.max(...values)) : null;
}

/**
 * The source's state now. Its next backup is due counting from its newest COMPLETE backup, or from when it
 * was resumed if later; a source with an expectation set but no COMPLETE backup yet counts from when it was
 * set.
 */
export function judgeHealth(input: HealthInput): HealthVerdict {
  const { stored, now } = input;
  const expectation = effectiveExpectation(input);
  const lastBackup = newestOf(input.complete);
  const verdict: HealthVerdict = {
    source: input.source,
    state: "NEW",
    expectation,
    lastBackup,
    ageSeconds: lastBackup ? Math.max(0, Math.round((now.getTime() - Date.parse(lastBackup.at)) / 1000)) : null,
    dueAt: null,
    staleAt: null,
    remindEverySeconds:
      stored.settings.remindEverySeconds ?? input.repository?.remindEverySeconds ?? DEFAULT_REMIND_EVERY_SECONDS,
  };
  const setAt = setAtOf(expectation?.origin, stored.settings, input.repository);
  const reference = latestTime(lastBackup?.at ?? setAt, stored.resumedAt);
  if (expectation && reference) {
    const due = nextDue(expectation as Expectation, reference);
    const stale = new Date(due.getTime() + expectation.graceSeconds * 1000);
    verdict.dueAt = due.toISOString();
    verdict.staleAt = stale.toISOString();
    verdict.state = now <= due ? "UP" : now <= stale ? "LATE" : "STALE";
  }
  // Not judged while paused: no due time either.
  if (stored.paused) return { ...verdict, state: "PAUSED", dueAt: null, staleAt: null };
  return verdict;
}

function setAtOf(
  origin: ExpectationOrigin | undefined,
  own: HealthSettings,
  repository: HealthSettings | null,
): string | null {
  if (origin === "source") return own.setAt;
  if (origin === "repository") return repository?.setAt ?? null;
  return null;
}

/** What to tell when a source goes from one state to another: entering LATE or STALE, and coming back. */
export function notificationFor(from: HealthState | null, to: HealthState): HealthAlertKind | null {
  if (to === "STALE") return "source-stale";
  // STALE → LATE (a backup arrived that is itself overdue) is still down: nothing new to say.
  if (to === "LATE") return from === "STALE" ? null : "source-late";
  if (to === "UP" && from !== null && DOWN_STATES.includes(from)) return "source-recovered";
  // NEW → UP, into or out of PAUSED, back to NEW: nothing to say.
  return null;
}

/**
 * The whole evaluation of one source: its state now, the status to record, the transition (if any), whether
 * a reminder of a STALE source is due (at most every `remindEverySeconds`, counting from the STALE alert),
 * and what to tell.
 */
export function evaluateHealth(input: HealthInput): HealthDecision {
  const verdict = judgeHealth(input);
  const previous = input.stored.status;
  const now = input.now.toISOString();
  if (!previous || previous.state !== verdict.state) {
    const to = verdict.state;
    const since = (to === "LATE" ? verdict.dueAt : to === "STALE" ? verdict.staleAt : null) ?? now;
    const wasDown = previous !== null && DOWN_STATES.includes(previous.state);
    const next: HealthStatus = {
      state: to,
      since,
      downSince: DOWN_STATES.includes(to)
        ? wasDown
          ? (previous.downSince ?? previous.since)
          : (verdict.dueAt ?? since)
        : null,
      lastReminderAt: to === "STALE" ? now : null,
      reminders: 0,
      changedAt: now,
    };
    const from = previous?.state ?? null;
    return { verdict, previous, next, transition: { from, to }, reminder: false, notify: notificationFor(from, to) };
  }
  const told = Date.parse(previous.lastReminderAt ?? previous.since);
  if (verdict.state === "STALE" && input.now.getTime() - told >= verdict.remindEverySeconds * 1000) {
    const next: HealthStatus = { ...previous, lastReminderAt: now, reminders: previous.reminders + 1 };
    return { verdict, previous, next, transition: null, reminder: true, notify: "source-stale-reminder" };
  }
  return { verdict, previous, next: previous, transition: null, reminder: false, notify: null };
}
