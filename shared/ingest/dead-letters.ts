import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { decodeEventKey, S3NotificationMessageSchema } from "./s3-events";

/** A message the indexer gave up on, as `restorable ingest dlq` lists it. */
export interface DeadLetter {
  messageId: string;
  sentAt: string | null;
  /** How many times the indexer received it before it was moved aside. */
  receiveCount: number;
  /** The object keys its S3 events name; empty when the body is not an S3 notification at all. */
  keys: string[];
  /** Why it cannot be read as an S3 notification, when it cannot. */
  unreadable: string | null;
}

export async function deadLetterCount(sqs: SQSClient, queueUrl: string): Promise<number> {
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return (
    Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/**
 * Reads what waits in the dead-letter queue without taking it away: each message is received (hidden
 * for a moment so the next receive returns others), then made visible again.
 */
export async function peekDeadLetters(sqs: SQSClient, queueUrl: string, max = 1000): Promise<DeadLetter[]> {
  const seen = new Map<string, Message>();
  try {
    while (seen.size < max) {
      const batch = await receive(sqs, queueUrl, 30);
      const fresh = batch.filter((message) => message.MessageId && !seen.has(message.MessageId));
      if (fresh.length === 0) break;
      for (const message of fresh) seen.set(message.MessageId as string, message);
    }
  } finally {
    await setVisibility(sqs, queueUrl, [...seen.values()], 0);
  }
  return [...seen.values()].map(describe);
}

/** Sends every dead letter back to the ingest queue, as it was, and removes it from the dead-letter queue. */
export async function redriveDeadLetters(sqs: SQSClient, deadLetterQueueUrl: string, ingestQueueUrl: string) {
  let moved = 0;
  for (;;) {
    const batch = await receive(sqs, deadLetterQueueUrl, 60);
    if (batch.length === 0) return moved;
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: ingestQueueUrl,
        Entries: batch.map((message, index) => ({ Id: String(index), MessageBody: message.Body ?? "" })),
      }),
    );
    const delivered = new Set((sent.Successful ?? []).map((entry) => Number(entry.Id)));
    const done = batch.filter((_, index) => delivered.has(index));
    if (done.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: deadLetterQueueUrl,
          Entries: done.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle as string,
          })),
        }),
      );
    }
    moved += done.length;
    if (done.length < batch.length) {
      throw new Error(`the ingest queue refused ${batch.length - done.length} messages: ${sent.Failed?.[0]?.Message}`);
    }
  }
}

async function receive(sqs: SQSClient, queueUrl: string, visibilitySeconds: number): Promise<Message[]> {
  const received = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      VisibilityTimeout: visibilitySeconds,
      MessageSystemAttributeNames: ["All"],
    }),
  );
  return received.Messages ?? [];
}

async function setVisibility(sqs: SQSClient, queueUrl: string, messages: Message[], seconds: number) {
  for (let offset = 0; offset < messages.length; offset += 10) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.slice(offset, offset + 10).map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle as string,
          VisibilityTimeout: seconds,
        })),
      }),
    );
  }
}

function describe(message: Message): DeadLetter {
  const sent = message.Attributes?.SentTimestamp;
  const parsed = safeJson(message.Body ?? "");
  const notification = S3NotificationMessageSchema.safeParse(parsed);
  const keys =
    notification.success && "Records" in notification.data
      ? notification.data.Records.map((record) => decodeEventKey(record.s3.object.key))
      : [];
  return {
    messageId: message.MessageId as string,
    sentAt: sent ? new Date(Number(sent)).toISOString() : null,
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
    keys,
    unreadable: notification.success ? null : "the message is not an S3 event notification",
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
