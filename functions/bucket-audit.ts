import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import type { Context } from "aws-lambda";
import { type AuditReport, auditBucket } from "../shared/bucket/audit";
import { openCatalog } from "../shared/catalog/dynamo/open";
import { FUNCTIONS, type SettingsOf } from "../shared/contracts/functions";
import { parseIntendedEncryption } from "../shared/contracts/storage-policy";
import { lazyHandler } from "./commons/lazy-handler";
import { type Observability, observability } from "./commons/observability";

export interface BucketAuditClients {
  s3: S3Client;
  dynamo: DynamoDBClient;
}

/** Scheduled: compares the bucket's lifecycle, versioning, encryption and public access with the intended ones. */
export function createBucketAudit(
  settings: SettingsOf<"bucketAudit">,
  clients: BucketAuditClients,
  { logger, metrics }: Observability = observability("bucket-audit"),
) {
  const alerts = openCatalog(clients.dynamo, settings.catalogTable).alerts;
  const encryption = parseIntendedEncryption(settings.bucketEncryption);
  return async (_event: unknown, context: Context): Promise<AuditReport> => {
    logger.addContext(context);
    try {
      const report = await auditBucket(
        clients.s3,
        settings.backupBucket,
        {
          encryption,
          repair: settings.auditMode === "repair",
          tlsOnlyPolicy: settings.expectTlsOnlyPolicy === "true",
        },
        logger,
        new Date(),
      );
      metrics.addMetric("DriftedSettings", MetricUnit.Count, report.drift.length);
      if (report.drift.length > 0) {
        await alerts.raise(
          {
            kind: "bucket-drift",
            subject: settings.backupBucket,
            message: `bucket settings drifted: ${report.drift.map((d) => `${d.setting}${d.repaired ? " (repaired)" : ""}`).join(", ")}`,
            details: { drift: report.drift },
          },
          new Date(),
        );
      }
      return report;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

export const handler = lazyHandler(FUNCTIONS.bucketAudit, (settings) =>
  createBucketAudit(settings, { s3: new S3Client({}), dynamo: new DynamoDBClient({}) }),
);
