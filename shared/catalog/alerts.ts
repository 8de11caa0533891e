import { z } from "zod";

/**
 * Something an operator must hear about (a refused retention run, bucket settings that drifted):
 * recorded in the catalog, newest first, for a notifier (Slack) or `restorable alerts` to pick up.
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
  ]),
  subject: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()),
});
export type Alert = z.infer<typeof AlertSchema>;

/** Where alerts are raised and read back; the DynamoDB implementation is in ./dynamo/alert-store.ts. */
export interface AlertStore {
  raise(alert: Omit<Alert, "id" | "at">, at: Date): Promise<Alert>;
  /**
   * Raises the alert unless one with the same `once` key was raised before (a duplicate or re-driven event,
   * two concurrent runs): exactly one alert per incident. Returns it, or undefined when it already existed.
   */
  raiseOnce(once: string, alert: Omit<Alert, "id" | "at">, at: Date): Promise<Alert | undefined>;
  /** Newest first. */
  recent(limit?: number): Promise<Alert[]>;
}
