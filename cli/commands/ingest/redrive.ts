import type { Command } from "commander";
import { plural, printJson } from "../../output/format";
import { ingestQueuesFor } from "./queues";

export function registerIngestRedrive(ingest: Command): void {
  ingest
    .command("redrive")
    .description("Send every message of the dead-letter queue back to the ingest queue, once its cause is fixed")
    .option("--json", "print JSON for scripts")
    .action(redrive);
}

async function redrive(options: { json?: boolean }, command: Command): Promise<void> {
  const { sqs, queueUrl, deadLetterQueueUrl } = await ingestQueuesFor(command);
  const { redriveDeadLetters } = await import("../../../shared/ingest/dead-letters");
  const moved = await redriveDeadLetters(sqs, deadLetterQueueUrl, queueUrl);
  if (options.json) return printJson({ redriven: moved });
  console.log(
    moved === 0
      ? "The dead-letter queue is empty: nothing to send back."
      : `Sent ${plural(moved, "message")} back to the ingest queue; restorable catalog list shows what they index.`,
  );
}
