import { z } from "zod";

/**
 * Something an operator must hear about (a refused retention run, bucket settings that drifted):
 * recorded in the catalog, newest first, for a notifier (Slack) or `restorable alerts` to pick up.
 */
export const AlertSchema = z.object({
  id: z.string(),
  at: z.iso.datetime({ offset: true }),
  kind: z.enum(["retention-refused", "bucket-drift", "retention-failed"]),
  subject: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()),
});
export type Alert = z.infer<typeof AlertSchema>;

/** Where alerts are raised and read back; the DynamoDB implementation is in ./dynamo/alert-store.ts. */
export interface AlertStore {
  raise(alert: Omit<Alert, "id" | "at">, at: Date): Promise<Alert>;
  /** Newest first. */
  recent(limit?: number): Promise<Alert[]>;
}
