import { randomUUID } from "node:crypto";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { Log } from "../../shared/log";

export type QueueHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export interface EventPumpOptions {
  sqs: SQSClient;
  queueUrl: string;
  handler: QueueHandler;
  functionName: string;
  region: string;
  log: Log;
  batchSize?: number;
  /** Seconds before a failed message is offered again (the queue's own timeout is sized for Lambda). */
  retryAfterSeconds?: number;
}

/**
 * What Lambda's SQS event source mapping does, for the local stack: receive a batch, call the
 * handler with an SQS event, delete what succeeded, and hand failures back to the queue (whose
 * redrive policy moves a message to the dead-letter queue after too many receives).
 */
export class EventPump {
  private running = false;
  private loop: Promise<void> | undefined;
  /** Cuts the long poll short when the pump stops, so stopping does not wait for it. */
  private polling: AbortController | undefined;

  constructor(private readonly options: EventPumpOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        this.polling = new AbortController();
        try {
          await this.pumpOnce(5, this.polling.signal);
        } catch (error) {
          // A poll cut short by stop(), or failing as the emulator goes away after it, is the stop, not an error.
          if (!this.running) return;
          this.options.log.error("event pump failed to poll; retrying", { error: String(error) });
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.polling?.abort();
    await this.loop;
  }

  /** Processes everything currently visible on the queue; returns the number of messages handled. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const handled = await this.pumpOnce(0);
      if (handled === 0) return total;
      total += handled;
    }
  }

  async pumpOnce(waitSeconds: number, abortSignal?: AbortSignal): Promise<number> {
    const { sqs, queueUrl } = this.options;
    // Only the receive is cut short: a batch received is handled and acknowledged, as Lambda would.
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: this.options.batchSize ?? 10,
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ["All"],
      }),
      abortSignal ? { abortSignal } : {},
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) return 0;
    const byId = new Map(messages.map((message) => [message.MessageId as string, message]));
    let failed: Set<string>;
    try {
      const response = await this.options.handler({ Records: messages.map((m) => this.toRecord(m)) }, this.context());
      failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
    } catch (error) {
      // A thrown handler fails the whole batch, as in Lambda.
      this.options.log.error("handler threw; the whole batch returns to the queue", { error: String(error) });
      failed = new Set(byId.keys());
    }
    const succeeded = messages.filter((m) => !failed.has(m.MessageId as string));
    if (succeeded.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: succeeded.map((m, index) => ({ Id: String(index), ReceiptHandle: m.ReceiptHandle as string })),
        }),
      );
    }
    for (const id of failed) {
      const message = byId.get(id);
      if (!message) continue;
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: message.ReceiptHandle as string,
          VisibilityTimeout: this.options.retryAfterSeconds ?? 5,
        }),
      );
    }
    return messages.length;
  }

  private toRecord(message: Message): SQSRecord {
    const attributes = message.Attributes ?? {};
    return {
      messageId: message.MessageId as string,
      receiptHandle: message.ReceiptHandle as string,
      body: message.Body ?? "",
      attributes: {
        ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? "1",
        SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
        SenderId: attributes.SenderId ?? "local",
        ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: message.MD5OfBody ?? "",
      eventSource: "aws:sqs",
      eventSourceARN: `arn:aws:sqs:${this.options.region}:000000000000:${this.options.queueUrl.split("/").pop()}`,
      awsRegion: this.options.region,
    };
  }

  private context(): Context {
    const functionName = this.options.functionName;
    return {
      callbackWaitsForEmptyEventLoop: false,
      functionName,
      functionVersion: "$LATEST",
      invokedFunctionArn: `arn:aws:lambda:${this.options.region}:000000000000:function:${functionName}`,
      memoryLimitInMB: "512",
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${functionName}`,
      logStreamName: "local",
      getRemainingTimeInMillis: () => 120_000,
      done: () => {},
      fail: () => {},
      succeed: () => {},
    };
  }
}
