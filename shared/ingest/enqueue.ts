import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { type SyntheticEvent, syntheticRecord } from "./s3-events";

export type { SyntheticEventName } from "./s3-events";

/**
 * A re-index packs this many records into one message: the indexer reads and decrypts a message's
 * snapshot files concurrently and writes them to the catalog in batches. About 300 bytes a record,
 * far below SQS's 256 KiB, and a few seconds of work, far below the indexer's timeout.
 */
export const RECORDS_PER_REINDEX_MESSAGE = 100;

/**
 * Puts S3-shaped notifications for `events` on the ingest queue, `recordsPerMessage` records in each
 * message (1, as S3 sends them, unless told otherwise) and ten messages per request, failing loudly on a
 * refusal.
 */
export async function enqueueNotifications(
  sqs: SQSClient,
  queueUrl: string,
  bucket: string,
  events: readonly SyntheticEvent[],
  source: string,
  { recordsPerMessage = 1 }: { recordsPerMessage?: number } = {},
): Promise<void> {
  const bodies: string[] = [];
  for (let offset = 0; offset < events.length; offset += recordsPerMessage) {
    const records = events
      .slice(offset, offset + recordsPerMessage)
      .map((event) => syntheticRecord(bucket, event, source));
    bodies.push(JSON.stringify({ Records: records }));
  }
  for (let offset = 0; offset < bodies.length; offset += 10) {
    const batch = bodies.slice(offset, offset + 10);
    const result = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((body, index) => ({ Id: String(index), MessageBody: body })),
      }),
    );
    if (result.Failed?.length) {
      throw new Error(
        `the ingest queue refused ${result.Failed.length} messages: ${result.Failed[0]?.Message ?? "no reason given"}`,
      );
    }
  }
}
