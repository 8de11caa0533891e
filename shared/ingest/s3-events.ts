import * as z from "zod";

/** One record of an S3 event notification, as S3 delivers it to SQS. */
export const S3EventRecordSchema = z.object({
  eventName: z.string(),
  eventTime: z.string(),
  /** Who wrote the object, as S3 reports it (absent from the events we synthesise). */
  userIdentity: z.object({ principalId: z.string().optional() }).optional(),
  s3: z.object({
    bucket: z.object({ name: z.string() }),
    object: z.object({
      key: z.string(),
      size: z.number().optional(),
      versionId: z.string().optional(),
      sequencer: z.string().optional(),
    }),
  }),
});
export type S3EventRecord = z.infer<typeof S3EventRecordSchema>;

export const S3EventNotificationSchema = z.object({ Records: z.array(S3EventRecordSchema) });

/** S3 sends this once when a notification configuration is saved; it carries no object. */
export const S3TestEventSchema = z.object({ Event: z.literal("s3:TestEvent") });

export const S3NotificationMessageSchema = z.union([S3EventNotificationSchema, S3TestEventSchema]);
export type S3NotificationMessage = z.infer<typeof S3NotificationMessageSchema>;

/** Keys in S3 notifications are URL-encoded, with '+' for spaces. */
export function decodeEventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, " "));
}

export function isCreation(record: S3EventRecord): boolean {
  return record.eventName.startsWith("ObjectCreated:");
}

export function isRemoval(record: S3EventRecord): boolean {
  return record.eventName.startsWith("ObjectRemoved:");
}

export type SyntheticEventName = "ObjectCreated:Put" | "ObjectRemoved:DeleteMarkerCreated";

export interface SyntheticEvent {
  key: string;
  eventName: SyntheticEventName;
  versionId?: string;
}

/**
 * One record as S3 writes it into a notification (S3's own messages carry one; ours may carry many), for
 * re-driving objects through the indexer (after a password fix, a repository's backfill) and for events S3
 * did not deliver (see shared/ingest/reconcile.ts).
 */
export function syntheticRecord(bucket: string, event: SyntheticEvent, source: string) {
  return {
    eventVersion: "2.1",
    eventSource: source,
    eventName: event.eventName,
    eventTime: new Date().toISOString(),
    s3: {
      bucket: { name: bucket },
      object: {
        key: encodeURIComponent(event.key).replace(/%2F/g, "/").replace(/%20/g, "+"),
        ...(event.versionId ? { versionId: event.versionId } : {}),
      },
    },
  };
}
