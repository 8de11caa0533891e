import type { Command } from "commander";
import { ConfigurationError } from "../../../shared/errors";
import { sqsClient } from "../../aws";
import { servicesFor } from "../../services";

/** The deployment's ingest queue and dead-letter queue, with an SQS client and the catalog. */
export async function ingestQueuesFor(command: Command) {
  const services = await servicesFor(command);
  const { queueUrl, deadLetterQueueUrl } = services.deployment;
  if (!queueUrl || !deadLetterQueueUrl) {
    throw new ConfigurationError(
      "no-ingest-queues",
      "this deployment does not say where its ingest queues are: use --stack <name> (its outputs name them), " +
        "the local stack, or RESTORABLE_QUEUE_URL and RESTORABLE_DEAD_LETTER_QUEUE_URL",
    );
  }
  return { ...services, sqs: await sqsClient(), queueUrl, deadLetterQueueUrl };
}
