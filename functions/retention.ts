import { hostname } from "node:os";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import type { Context } from "aws-lambda";
import { z } from "zod";
import { DynamoAlertStore } from "../shared/catalog/alerts";
import { DynamoRepositoryStore } from "../shared/catalog/dynamo-repositories";
import { DynamoRetentionStore } from "../shared/catalog/dynamo-retention";
import { DynamoCatalogStore } from "../shared/catalog/dynamo-store";
import { loadEnvironment } from "../shared/env";
import { describeError } from "../shared/errors";
import { MasterKeyCache } from "../shared/restic/key-cache";
import { applyRetention } from "../shared/retention/apply";
import { passwords } from "./commons/passwords";

const env = loadEnvironment(
  z.object({
    CATALOG_TABLE_NAME: z.string().min(1),
    BACKUP_BUCKET_NAME: z.string().min(1),
  }),
);

const logger = new Logger({ serviceName: "restorable-retention" });
const metrics = new Metrics({ namespace: "Restorable", serviceName: "retention" });
const s3 = new S3Client({});
const dynamo = new DynamoDBClient({});
const catalog = new DynamoCatalogStore(dynamo, env.CATALOG_TABLE_NAME);
const alerts = new DynamoAlertStore(dynamo, env.CATALOG_TABLE_NAME);
const deps = {
  s3,
  bucket: env.BACKUP_BUCKET_NAME,
  catalog,
  retention: new DynamoRetentionStore(dynamo, env.CATALOG_TABLE_NAME),
  alerts,
  repositories: new DynamoRepositoryStore(dynamo, env.CATALOG_TABLE_NAME),
  passwords,
  keys: new MasterKeyCache(),
  log: logger,
  now: () => new Date(),
  holder: { hostname: `restorable-retention@${hostname()}`, username: "restorable", pid: process.pid },
};

interface SourceReport {
  source: string;
  status: string;
  removed: number;
  postponed: number;
}

/** Scheduled: applies retention to every source in the catalog, one source at a time. */
export async function handler(
  _event: unknown,
  context: Context,
): Promise<{ sources: SourceReport[]; failed: string[] }> {
  logger.addContext(context);
  const sources: SourceReport[] = [];
  const failed: string[] = [];
  try {
    for (const source of await catalog.listSources()) {
      try {
        const plan = await applyRetention(source.source, deps);
        if (plan.status === "NO_POLICY") continue;
        sources.push({
          source: source.source,
          status: plan.status,
          removed: plan.outcome.removed.length,
          postponed: plan.outcome.postponed.length,
        });
        metrics.addMetric("RemovedBackups", MetricUnit.Count, plan.outcome.removed.length);
        if (plan.status === "REFUSED") metrics.addMetric("RefusedRetentionRuns", MetricUnit.Count, 1);
      } catch (error) {
        // One source's failure must not stop retention for the others; it is alerted and retried tomorrow.
        failed.push(source.source);
        logger.error("retention failed for a source", { source: source.source, error: describeError(error) });
        await alerts.raise(
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
}
