import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import type { Context } from "aws-lambda";
import { z } from "zod";
import { type AuditReport, auditBucket } from "../shared/bucket-audit";
import { DynamoAlertStore } from "../shared/catalog/alerts";
import { loadEnvironment } from "../shared/env";
import { parseIntendedEncryption } from "../shared/storage-policy";

const env = loadEnvironment(
  z.object({
    CATALOG_TABLE_NAME: z.string().min(1),
    BACKUP_BUCKET_NAME: z.string().min(1),
    /** AES256, or aws:kms:<key arn>. */
    BUCKET_ENCRYPTION: z.string().min(1),
    /** "repair" puts drifted settings back; "report" only raises the alert. */
    AUDIT_MODE: z.enum(["repair", "report"]).default("repair"),
    /** Whether the bucket must have a policy refusing plain HTTP (not on a loopback endpoint without TLS). */
    EXPECT_TLS_ONLY_POLICY: z.enum(["true", "false"]).default("true"),
  }),
);

const logger = new Logger({ serviceName: "restorable-bucket-audit" });
const metrics = new Metrics({ namespace: "Restorable", serviceName: "bucket-audit" });
const s3 = new S3Client({});
const alerts = new DynamoAlertStore(new DynamoDBClient({}), env.CATALOG_TABLE_NAME);
const encryption = parseIntendedEncryption(env.BUCKET_ENCRYPTION);

/** Scheduled: compares the bucket's lifecycle, versioning, encryption and public access with the intended ones. */
export async function handler(_event: unknown, context: Context): Promise<AuditReport> {
  logger.addContext(context);
  try {
    const report = await auditBucket(
      s3,
      env.BACKUP_BUCKET_NAME,
      { encryption, repair: env.AUDIT_MODE === "repair", tlsOnlyPolicy: env.EXPECT_TLS_ONLY_POLICY === "true" },
      logger,
      new Date(),
    );
    metrics.addMetric("DriftedSettings", MetricUnit.Count, report.drift.length);
    if (report.drift.length > 0) {
      await alerts.raise(
        {
          kind: "bucket-drift",
          subject: env.BACKUP_BUCKET_NAME,
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
}
