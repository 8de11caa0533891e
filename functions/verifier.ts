import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import type { Context } from "aws-lambda";
import { openCatalog } from "../shared/catalog/dynamo/open";
import { FUNCTIONS, type SettingsOf } from "../shared/contracts/functions";
import { describeError } from "../shared/errors";
import { type VerificationReport, verifyNextSlice } from "../shared/restic/verifier";
import { lazyHandler } from "./commons/lazy-handler";
import { type Observability, observability } from "./commons/observability";

export interface VerifierClients {
  s3: S3Client;
  dynamo: DynamoDBClient;
}

/** Scheduled: verifies the next slice of every registered restic repository, without passwords. */
export function createVerifier(
  settings: SettingsOf<"verifier">,
  clients: VerifierClients,
  { logger, metrics }: Observability = observability("verifier"),
) {
  const repositories = openCatalog(clients.dynamo, settings.catalogTable).repositories;
  return async (_event: unknown, context: Context): Promise<{ reports: VerificationReport[]; failed: string[] }> => {
    logger.addContext(context);
    const reports: VerificationReport[] = [];
    const failed: string[] = [];
    try {
      for (const repository of await repositories.list()) {
        try {
          const report = await verifyNextSlice(repository.name, {
            s3: clients.s3,
            bucket: settings.backupBucket,
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
  };
}

export const handler = lazyHandler(FUNCTIONS.verifier, (settings) =>
  createVerifier(settings, { s3: new S3Client({}), dynamo: new DynamoDBClient({}) }),
);
