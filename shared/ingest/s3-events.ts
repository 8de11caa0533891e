import { z } from "zod";

/** One record of an S3 event notification, as S3 delivers it to SQS. */
export const S3EventRecordSchema = z.object({
  eventName: z.string(),
  eventTime: z.string(),
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
