import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { SecretLookup } from "../shared/aws/secrets";
import { openCatalog } from "../shared/catalog/dynamo/open";
import { CachedKeyring } from "../shared/catalog/keyring";
import { FUNCTIONS, type SettingsOf } from "../shared/contracts/functions";
import { METRICS } from "../shared/contracts/metrics";
import { indexMessage, recordIndexingFailure } from "../shared/ingest/indexer";
import { MasterKeyCache } from "../shared/restic/key-cache";
import { secretPasswords } from "../shared/restic/passwords";
import { CachedRepositoryRegistry } from "../shared/restic/registry-cache";
import { lazyHandler } from "./commons/lazy-handler";
import { type Observability, observability } from "./commons/observability";

export interface IndexerClients {
  s3: S3Client;
  dynamo: DynamoDBClient;
  secrets: SecretsManagerClient;
}

/** Builds the indexer: S3 notifications arrive through SQS; failed messages are reported one by one. */
export function createIndexer(
  settings: SettingsOf<"indexer">,
  clients: IndexerClients,
  { logger, metrics }: Observability = observability("indexer"),
) {
  const catalog = openCatalog(clients.dynamo, settings.catalogTable);
  const deps = {
    s3: clients.s3,
    catalog: catalog.backups,
    problems: catalog.problems,
    alerts: catalog.alerts,
    keyring: new CachedKeyring(catalog.keyring),
    repositories: new CachedRepositoryRegistry(catalog.repositories),
    // A warm Lambda rereads a password once a minute; `fresh` skips that when one stops working.
    passwords: secretPasswords(new SecretLookup(clients.secrets, { maxAgeMs: 60_000 })),
    // Kept across invocations of a warm Lambda: scrypt runs once per repository and password.
    keys: new MasterKeyCache(),
    bucket: settings.backupBucket,
    log: logger,
    now: () => new Date(),
  };
  const processor = new BatchProcessor(EventType.SQS);

  async function handleRecord(record: SQSRecord): Promise<void> {
    let outcomes: Awaited<ReturnType<typeof indexMessage>>;
    try {
      outcomes = await indexMessage(record, deps);
    } catch (error) {
      const attempt = Number(record.attributes.ApproximateReceiveCount) || undefined;
      await recordIndexingFailure({ ...record, ...(attempt ? { attempt } : {}) }, error, deps);
      throw error;
    }
    for (const outcome of outcomes) {
      if (outcome.outcome === "recorded" && outcome.bytes) {
        metrics.addMetric(METRICS.bytesIngested.metricName, MetricUnit.Bytes, outcome.bytes);
      }
      metrics.addMetric(
        outcome.outcome === "recorded" ? `Recorded${capitalise(outcome.status)}` : capitalise(outcome.outcome),
        MetricUnit.Count,
        1,
      );
    }
  }

  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    logger.addContext(context);
    try {
      const response = await processPartialResponse(event, handleRecord, processor, {
        context,
        throwOnFullBatchFailure: false,
      });
      metrics.addMetric("FailedMessages", MetricUnit.Count, response.batchItemFailures.length);
      return response;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

export const handler = lazyHandler(FUNCTIONS.indexer, (settings) =>
  createIndexer(settings, {
    s3: new S3Client({}),
    dynamo: new DynamoDBClient({}),
    secrets: new SecretsManagerClient({}),
  }),
);

function capitalise(text: string): string {
  return text
    .toLowerCase()
    .split(/[-_]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
}
