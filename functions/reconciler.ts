import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { Context } from "aws-lambda";
import type { AlertStore } from "../shared/catalog/alerts";
import { openCatalog } from "../shared/catalog/dynamo/open";
import { FUNCTIONS, type SettingsOf } from "../shared/contracts/functions";
import { describeError } from "../shared/errors";
import { deadLetterCount } from "../shared/ingest/dead-letters";
import { enqueueNotifications, type SyntheticEventName } from "../shared/ingest/enqueue";
import { type ReconcileReport, reconcileRepository } from "../shared/ingest/reconcile";
import { type DumpSetReconcileReport, reconcileDumpSets } from "../shared/ingest/reconcile-dumpsets";
import { lazyHandler } from "./commons/lazy-handler";
import { type Observability, observability } from "./commons/observability";

export interface ReconcilerClients {
  s3: S3Client;
  sqs: SQSClient;
  dynamo: DynamoDBClient;
}

interface ReconcilerReport {
  dumpSets: DumpSetReconcileReport | null;
  reports: ReconcileReport[];
  /** Messages waiting in the ingest dead-letter queue. */
  deadLetters: number;
  failed: string[];
}

function missedEvents(report: DumpSetReconcileReport): number {
  return report.uncommitted.length + report.unindexed.length + report.incomplete.length + report.replaced.length;
}

/**
 * Messages in the dead-letter queue are backups the catalog may never show: one alert a day while any
 * wait, saying how to see and re-drive them.
 */
async function watchDeadLetters(sqs: SQSClient, queueUrl: string, alerts: Pick<AlertStore, "raiseOnce">) {
  const count = await deadLetterCount(sqs, queueUrl);
  if (count === 0) return 0;
  const day = new Date().toISOString().slice(0, 10);
  await alerts.raiseOnce(
    `ingest-dead-letters:${day}`,
    {
      kind: "ingest-dead-letters",
      subject: "ingest",
      message: `${count} message${count === 1 ? "" : "s"} the indexer gave up on wait in the ingest dead-letter queue: restorable ingest dlq lists them, restorable ingest redrive sends them back once fixed`,
      details: { count },
    },
    new Date(),
  );
  return count;
}

/** Scheduled: hands the indexer every dump-set and restic snapshot change that no event reported. */
export function createReconciler(
  settings: SettingsOf<"reconciler">,
  clients: ReconcilerClients,
  { logger, metrics }: Observability = observability("reconciler"),
) {
  const catalog = openCatalog(clients.dynamo, settings.catalogTable);
  const enqueue = (events: { key: string; eventName: SyntheticEventName; versionId?: string }[]) =>
    enqueueNotifications(clients.sqs, settings.ingestQueueUrl, settings.backupBucket, events, "restorable:reconciler");
  return async (_event: unknown, context: Context): Promise<ReconcilerReport> => {
    logger.addContext(context);
    const reports: ReconcileReport[] = [];
    const failed: string[] = [];
    let dumpSets: DumpSetReconcileReport | null = null;
    let deadLetters = 0;
    try {
      try {
        dumpSets = await reconcileDumpSets({
          s3: clients.s3,
          bucket: settings.backupBucket,
          catalog: catalog.backups,
          enqueue,
          log: logger,
          now: () => new Date(),
        });
        metrics.addMetric("MissedDumpSetEvents", MetricUnit.Count, missedEvents(dumpSets));
      } catch (error) {
        failed.push("dump sets");
        logger.error("dump-set reconciliation failed", { error: describeError(error) });
      }
      deadLetters = await watchDeadLetters(clients.sqs, settings.deadLetterQueueUrl, catalog.alerts);
      metrics.addMetric("DeadLetters", MetricUnit.Count, deadLetters);
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
      return { dumpSets, reports, deadLetters, failed };
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
