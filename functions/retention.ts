import { hostname } from "node:os";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { Context } from "aws-lambda";
import { retentionDependencies } from "../shared/compose/retention";
import { FUNCTIONS, type SettingsOf } from "../shared/contracts/functions";
import { METRICS } from "../shared/contracts/metrics";
import { describeError } from "../shared/errors";
import { applyRetention } from "../shared/retention/apply";
import { lazyHandler } from "./commons/lazy-handler";
import { type Observability, observability } from "./commons/observability";

export interface RetentionClients {
  s3: S3Client;
  dynamo: DynamoDBClient;
  secrets: SecretsManagerClient;
}

interface SourceReport {
  source: string;
  status: string;
  removed: number;
  postponed: number;
}

/** Scheduled: applies retention to every source in the catalog, one source at a time. */
export function createRetention(
  settings: SettingsOf<"retention">,
  clients: RetentionClients,
  { logger, metrics }: Observability = observability("retention"),
) {
  const deps = retentionDependencies(clients, { bucket: settings.backupBucket, table: settings.catalogTable }, logger, {
    hostname: `restorable-retention@${hostname()}`,
    username: "restorable",
    pid: process.pid,
  });
  return async (_event: unknown, context: Context): Promise<{ sources: SourceReport[]; failed: string[] }> => {
    logger.addContext(context);
    const sources: SourceReport[] = [];
    const failed: string[] = [];
    try {
      for (const source of await deps.catalog.listSources()) {
        try {
          const plan = await applyRetention(source.source, deps);
          if (plan.status === "NO_POLICY") continue;
          sources.push({
            source: source.source,
            status: plan.status,
            removed: plan.outcome.removed.length,
            postponed: plan.outcome.postponed.length,
          });
          metrics.addMetric(METRICS.removedBackups.metricName, MetricUnit.Count, plan.outcome.removed.length);
          if (plan.status === "REFUSED") metrics.addMetric("RefusedRetentionRuns", MetricUnit.Count, 1);
        } catch (error) {
          // One source's failure must not stop retention for the others; it is alerted and retried tomorrow.
          failed.push(source.source);
          logger.error("retention failed for a source", { source: source.source, error: describeError(error) });
          await deps.alerts.raise(
            { kind: "retention-failed", subject: source.source, message: describeError(error), details: {} },
            new Date(),
          );
        }
      }
      return { sources, failed };
    } finally {
      // Always one figure, even for an empty run: Powertools warns on every publish without metrics.
      metrics.addMetric("SourcesJudged", MetricUnit.Count, sources.length);
      metrics.publishStoredMetrics();
    }
  };
}

export const handler = lazyHandler(FUNCTIONS.retention, (settings) =>
  createRetention(settings, {
    s3: new S3Client({}),
    dynamo: new DynamoDBClient({}),
    secrets: new SecretsManagerClient({}),
  }),
);
