import * as z from "zod";

/**
 * Something an operator must hear about (a refused retention run, bucket settings that drifted):
 * recorded in the catalog, newest first, for `restorable alerts`, and pending until the notifier has sent it
 * (Slack, or the local stack's terminal): the alert items are the notifier's durable queue.
 */
export const AlertSchema = z.object({
  id: z.string(),
  at: z.iso.datetime({ offset: true }),
  kind: z.enum([
    "retention-refused",
    "bucket-drift",
    "retention-failed",
    /** A new version of a committed dump-set component, or of a restic repository file: put back. */
    "history-replaced",
    /** A restic repository file whose bytes do not hash to its name. */
    "restic-file-misnamed",
    /** Messages the indexer gave up on wait in the ingest dead-letter queue. */
    "ingest-dead-letters",
    /** A restore drill FAILED (the backup) or ended in ERROR (the drill). */
    "drill-failed",
    /** The indexer recorded a dump set CORRUPT (once per set and manifest version). */
    "set-corrupt",
    /** A source's sets name a master key the service does not hold (once per source and key). */
    "master-key-not-held",
    /** A source's backups are past due (LATE: within grace; STALE: past grace), still STALE, or back. */
    "source-late",
    "source-stale",
    "source-stale-reminder",
    "source-recovered",
    /** A CloudWatch alarm changed state, or a scheduled Lambda's run failed. */
    "alarm",
    /** `restorable alerts test`. */
    "test",
  ]),
  subject: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()),
  /**
   * When the notifier sent it; null while it is pending (or for alerts raised before there was a notifier).
   * Optional in the type, so what raises alerts (`AlertSchema.omit({ id, at })`) need not say it; the store
   * always reads it back as a time or null.
   */
  sentAt: z.iso.datetime({ offset: true }).nullish(),
});
export type Alert = z.infer<typeof AlertSchema>;
export type AlertKind = Alert["kind"];

/** What raising an alert takes: the store gives it its id and time, and it starts pending. */
export type NewAlert = Omit<Alert, "id" | "at" | "sentAt">;

/** An alert as `recent` lists it: with whether it still waits for the notifier. */
export type ListedAlert = Alert & { sentAt: string | null; pending: boolean };

/** Where alerts are raised and read back; the DynamoDB implementation is in ./dynamo/alert-store.ts. */
export interface AlertStore {
  /** Records the alert, pending until the notifier marks it sent. */
  raise(alert: NewAlert, at: Date): Promise<Alert>;
  /**
   * Raises the alert unless one with the same `once` key was raised before (a duplicate or re-driven event,
   * two concurrent runs): exactly one alert per incident. Returns it, or undefined when it already existed.
   */
  raiseOnce(once: string, alert: NewAlert, at: Date): Promise<Alert | undefined>;
  /** Newest first. */
  recent(limit?: number): Promise<ListedAlert[]>;
  /** Alerts not sent yet, oldest first (claimed ones too: `claim` tells whether another run holds them). */
  pending(limit?: number): Promise<Alert[]>;
  /**
   * Takes a pending alert for `owner` until `until`: true unless it was sent, or another owner's claim has not
   * expired at `now`. Only the claim's owner may mark it sent.
   */
  claim(id: string, owner: string, until: Date, now: Date): Promise<boolean>;
  /** Records the alert sent; false when `owner` no longer held its claim (another run may send it again). */
  markSent(id: string, owner: string, at: Date): Promise<boolean>;
  /** Gives a claim back (the send failed): the alert stays pending for the next run. */
  release(id: string, owner: string): Promise<void>;
}
