import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { Context } from "aws-lambda";
import { openCatalog } from "../shared/catalog/dynamo/open";
import { FUNCTIONS, type SettingsOf } from "../shared/contracts/functions";
import { describeError } from "../shared/errors";
import { enqueueNotifications, type SyntheticEventName } from "../shared/ingest/enqueue";
import { type ReconcileReport, reconcileRepository } from "../shared/ingest/reconcile";
import { lazyHandler } from "./commons/lazy-handler";
import { type Observability, observability } from "./commons/observability";

export interface ReconcilerClients {
  s3: S3Client;
  sqs: SQSClient;
  dynamo: DynamoDBClient;
}

/** Scheduled: hands the indexer every restic snapshot change that no event reported. */
export function createReconciler(
  settings: SettingsOf<"reconciler">,
  clients: ReconcilerClients,
  { logger, metrics }: Observability = observability("reconciler"),
) {
  const catalog = openCatalog(clients.dynamo, settings.catalogTable);
  const enqueue = (events: { key: string; eventName: SyntheticEventName }[]) =>
    enqueueNotifications(clients.sqs, settings.ingestQueueUrl, settings.backupBucket, events, "restorable:reconciler");
  return async (_event: unknown, context: Context): Promise<{ reports: ReconcileReport[]; failed: string[] }> => {
    logger.addContext(context);
    const reports: ReconcileReport[] = [];
    const failed: string[] = [];
    try {
      for (const repository of await catalog.repositories.list()) {
        try {
          const report = await reconcileRepository(repository.name, {
            s3: clients.s3,
            bucket: settings.backupBucket,
            catalog: catalog.backups,
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
  };
}

export const handler = lazyHandler(FUNCTIONS.reconciler, (settings) =>
  createReconciler(settings, { s3: new S3Client({}), sqs: new SQSClient({}), dynamo: new DynamoDBClient({}) }),
);
