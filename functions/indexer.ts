import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { z } from "zod";
import { CachedRepositoryRegistry, DynamoRepositoryStore } from "../shared/catalog/dynamo-repositories";
import { DynamoCatalogStore } from "../shared/catalog/dynamo-store";
import { CachedKeyring, DynamoKeyring } from "../shared/catalog/keyring";
import { DynamoProblemStore } from "../shared/catalog/problems";
import { loadEnvironment } from "../shared/env";
import { indexMessage } from "../shared/ingest/indexer";
import { MasterKeyCache } from "../shared/restic/key-cache";
import { passwords } from "./commons/passwords";

const env = loadEnvironment(
  z.object({
    CATALOG_TABLE_NAME: z.string().min(1),
    BACKUP_BUCKET_NAME: z.string().min(1),
  }),
);

const logger = new Logger({ serviceName: "restorable-indexer" });
const metrics = new Metrics({ namespace: "Restorable", serviceName: "indexer" });
const s3 = new S3Client({});
const dynamo = new DynamoDBClient({});
const catalog = new DynamoCatalogStore(dynamo, env.CATALOG_TABLE_NAME);
const problems = new DynamoProblemStore(dynamo, env.CATALOG_TABLE_NAME);
const keyring = new CachedKeyring(new DynamoKeyring(dynamo, env.CATALOG_TABLE_NAME));
const repositories = new CachedRepositoryRegistry(new DynamoRepositoryStore(dynamo, env.CATALOG_TABLE_NAME));
// Kept across invocations of a warm Lambda: scrypt runs once per repository and password.
const keys = new MasterKeyCache();
const processor = new BatchProcessor(EventType.SQS);

async function handleRecord(record: SQSRecord): Promise<void> {
  const outcomes = await indexMessage(record, {
    s3,
    catalog,
    problems,
    keyring,
    repositories,
    passwords,
    keys,
    bucket: env.BACKUP_BUCKET_NAME,
    log: logger,
    now: () => new Date(),
  });
  for (const outcome of outcomes) {
    metrics.addMetric(
      outcome.outcome === "recorded" ? `Recorded${capitalise(outcome.status)}` : capitalise(outcome.outcome),
      MetricUnit.Count,
      1,
    );
  }
}

/** S3 notifications arrive through SQS; failed messages are reported one by one (partial batch response). */
export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
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
}

function capitalise(text: string): string {
  return text
    .toLowerCase()
    .split(/[-_]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
}
