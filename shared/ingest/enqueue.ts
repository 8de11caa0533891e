import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { syntheticNotification } from "./s3-events";

export type SyntheticEventName = "ObjectCreated:Put" | "ObjectRemoved:DeleteMarkerCreated";

/** Puts S3-shaped notifications for `keys` on the ingest queue, ten per request, failing loudly on a refusal. */
export async function enqueueNotifications(
  sqs: SQSClient,
  queueUrl: string,
  bucket: string,
  events: readonly { key: string; eventName: SyntheticEventName; versionId?: string }[],
  source: string,
): Promise<void> {
  for (let offset = 0; offset < events.length; offset += 10) {
    const batch = events.slice(offset, offset + 10);
    const result = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((event, index) => ({
          Id: String(index),
          MessageBody: JSON.stringify(
            syntheticNotification(bucket, event.key, event.eventName, source, event.versionId),
          ),
        })),
      }),
    );
    if (result.Failed?.length) {
      throw new Error(
        `the ingest queue refused ${result.Failed.length} messages: ${result.Failed[0]?.Message ?? "no reason given"}`,
      );
    }
  }
}
