import * as z from "zod";
import { AlertSchema } from "../catalog/alerts";
import { ExpectationSchema } from "./expectation";

/**
 * - NEW: too little history to infer an expectation (fewer than three COMPLETE backups) and none set
 * - UP: the next backup is not due yet
 * - LATE: past due, within the grace
 * - STALE: past due and past the grace
 * - PAUSED: `restorable sources pause` (a workspace stopped on purpose): judged again after `resume`
 */
export const HealthStateSchema = z.enum(["NEW", "UP", "LATE", "STALE", "PAUSED"]);
export type HealthState = z.infer<typeof HealthStateSchema>;

/** States in which a source is missing backups ("down"): entering one is alerted, leaving it is a recovery. */
export const DOWN_STATES: readonly HealthState[] = ["LATE", "STALE"];

/** How often a source that stays STALE is reminded, unless set for it or its repository. */
export const DEFAULT_REMIND_EVERY_SECONDS = 24 * 3600;

const IsoSchema = z.iso.datetime({ offset: true });

/**
 * What is set for a source, or for every source of a restic repository: an explicit expectation (null:
 * inferred) and how often a STALE source is reminded (null: the default, or the repository's).
 */
export const HealthSettingsSchema = z.object({
  expectation: ExpectationSchema.nullable(),
  remindEverySeconds: z.number().int().positive().nullable(),
  /** When the expectation was last set: a source with one but no backup yet is due one from then. */
  setAt: IsoSchema.nullable(),
});
export type HealthSettings = z.infer<typeof HealthSettingsSchema>;

export const NO_SETTINGS: HealthSettings = { expectation: null, remindEverySeconds: null, setAt: null };

/** A source's recorded state: changed only by a conditional write on the previous state and since. */
export const HealthStatusSchema = z.object({
  state: HealthStateSchema,
  /** When the state began: for LATE the due time, for STALE due + grace; otherwise when it was seen. */
  since: IsoSchema,
  /** When the backup it is missing was due (it went LATE or STALE), kept until it is back UP: "down for X". */
  downSince: IsoSchema.nullable(),
  /** When a STALE source was last told (the STALE alert, then each reminder). */
  lastReminderAt: IsoSchema.nullable(),
  /** Reminders sent for this STALE (0 on every state change). */
  reminders: z.number().int().nonnegative(),
  /** When the state was recorded. */
  changedAt: IsoSchema,
});
export type HealthStatus = z.infer<typeof HealthStatusSchema>;

/**
 * An alert decided with a state change (or a reminder) and not yet known to be raised: written with the
 * change, raised once (`raiseOnce(once, …)`) and cleared, so a run that stops between the two is finished by
 * the next one.
 */
export const PendingAlertSchema = z.object({
  once: z.string(),
  alert: AlertSchema.pick({ kind: true, subject: true, message: true, details: true }),
});
export type PendingAlert = z.infer<typeof PendingAlertSchema>;

/**
 * The source's newest COMPLETE backups as the last evaluation read them from its timeline, kept so that
 * each run (every few minutes) need not read every source's timeline again: it is read again when the
 * source's summary (its latest backups) changed, and at least every HISTORY_MAX_AGE_SECONDS, which picks
 * up what does not touch the summary (an older backup removed or found corrupt).
 */
export const HealthHistorySchema = z.object({
  /** The source summary it was read against (see historyFingerprint). */
  fingerprint: z.string(),
  readAt: IsoSchema,
  complete: z.array(z.object({ id: z.string(), createdAt: IsoSchema })),
  repository: z.string().nullable(),
});
export type HealthHistory = z.infer<typeof HealthHistorySchema>;

export const HISTORY_MAX_AGE_SECONDS = 24 * 3600;

/** Everything kept about one source's health (item HEALTH#<source>). */
export interface StoredHealth {
  source: string;
  settings: HealthSettings;
  paused: boolean;
  /** When it was last resumed: a resumed source is due its next backup counting from then. */
  resumedAt: string | null;
  status: HealthStatus | null;
  pending: PendingAlert | null;
  history: HealthHistory | null;
}

export function emptyHealth(source: string): StoredHealth {
  return {
    source,
    settings: NO_SETTINGS,
    paused: false,
    resumedAt: null,
    status: null,
    pending: null,
    history: null,
  };
}
