import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import type { Context } from "aws-lambda";
import { z } from "zod";
import { DynamoRepositoryStore } from "../shared/catalog/dynamo-repositories";
import { loadEnvironment } from "../shared/env";
import { describeError } from "../shared/errors";
import { type VerificationReport, verifyNextSlice } from "../shared/restic/verifier";

const env = loadEnvironment(
  z.object({
    CATALOG_TABLE_NAME: z.string().min(1),
    BACKUP_BUCKET_NAME: z.string().min(1),
  }),
);

const logger = new Logger({ serviceName: "restorable-verifier" });
const metrics = new Metrics({ namespace: "Restorable", serviceName: "verifier" });
const s3 = new S3Client({});
const repositories = new DynamoRepositoryStore(new DynamoDBClient({}), env.CATALOG_TABLE_NAME);

/** Scheduled: verifies the next slice of every registered restic repository, without passwords. */
export async function handler(
  _event: unknown,
  context: Context,
): Promise<{ reports: VerificationReport[]; failed: string[] }> {
  logger.addContext(context);
  const reports: VerificationReport[] = [];
  const failed: string[] = [];
  try {
    for (const repository of await repositories.list()) {
      try {
        const report = await verifyNextSlice(repository.name, {
          s3,
          bucket: env.BACKUP_BUCKET_NAME,
          repositories,
          log: logger,
          now: () => new Date(),
        });
        reports.push(report);
        metrics.addMetric("VerifiedObjects", MetricUnit.Count, report.objectsChecked);
        metrics.addMetric("VerificationMismatches", MetricUnit.Count, report.mismatches.length);
        logger.info("verified a slice", { ...report });
      } catch (error) {
        // One repository's trouble does not stop the others; the next run tries it again.
        failed.push(repository.name);
        logger.error("verification failed", { repository: repository.name, error: describeError(error) });
      }
    }
    return { reports, failed };
  } finally {
    // Always one figure, even for an empty run: Powertools warns on every publish without metrics.
    metrics.addMetric("RepositoriesVerified", MetricUnit.Count, reports.length);
    metrics.publishStoredMetrics();
  }
}
