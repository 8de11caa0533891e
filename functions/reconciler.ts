import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { Context } from "aws-lambda";
import { z } from "zod";
import { DynamoRepositoryStore } from "../shared/catalog/dynamo-repositories";
import { DynamoCatalogStore } from "../shared/catalog/dynamo-store";
import { loadEnvironment } from "../shared/env";
import { describeError } from "../shared/errors";
import { enqueueNotifications, type SyntheticEventName } from "../shared/ingest/enqueue";
import { type ReconcileReport, reconcileRepository } from "../shared/restic/reconcile";

const env = loadEnvironment(
  z.object({
    CATALOG_TABLE_NAME: z.string().min(1),
    BACKUP_BUCKET_NAME: z.string().min(1),
    INGEST_QUEUE_URL: z.string().min(1),
  }),
);

const logger = new Logger({ serviceName: "restorable-reconciler" });
const metrics = new Metrics({ namespace: "Restorable", serviceName: "reconciler" });
const s3 = new S3Client({});
const sqs = new SQSClient({});
const dynamo = new DynamoDBClient({});
const catalog = new DynamoCatalogStore(dynamo, env.CATALOG_TABLE_NAME);
const repositories = new DynamoRepositoryStore(dynamo, env.CATALOG_TABLE_NAME);

const enqueue = (events: { key: string; eventName: SyntheticEventName }[]) =>
  enqueueNotifications(sqs, env.INGEST_QUEUE_URL, env.BACKUP_BUCKET_NAME, events, "restorable:reconciler");

/** Scheduled: hands the indexer every restic snapshot change that no event reported. */
export async function handler(
  _event: unknown,
  context: Context,
): Promise<{ reports: ReconcileReport[]; failed: string[] }> {
  logger.addContext(context);
  const reports: ReconcileReport[] = [];
  const failed: string[] = [];
  try {
    for (const repository of await repositories.list()) {
      try {
        const report = await reconcileRepository(repository.name, {
          s3,
          bucket: env.BACKUP_BUCKET_NAME,
          catalog,
          enqueue,
          log: logger,
        });
        reports.push(report);
        metrics.addMetric(
          "MissedSnapshotEvents",
          MetricUnit.Count,
          report.unindexed.length + report.unforgotten.length,
        );
      } catch (error) {
        failed.push(repository.name);
        logger.error("reconciliation failed", { repository: repository.name, error: describeError(error) });
      }
    }
    return { reports, failed };
  } finally {
    // Always one figure, even for an empty run: Powertools warns on every publish without metrics.
    metrics.addMetric("RepositoriesReconciled", MetricUnit.Count, reports.length);
    metrics.publishStoredMetrics();
  }
}
