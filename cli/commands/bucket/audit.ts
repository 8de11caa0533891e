import type { Command } from "commander";
import type { AuditReport } from "../../../shared/bucket/audit";
import type { Deployment } from "../../../shared/contracts/deployment";
import { silentLog } from "../../../shared/log";
import { s3Client } from "../../aws";
import { deploymentFor } from "../../context";
import { printAudit } from "../../output/bucket";
import { printJson } from "../../output/format";

export function registerBucketAudit(bucket: Command): void {
  bucket
    .command("audit")
    .description("Compare the bucket's lifecycle, versioning, encryption and public access with the intended ones")
    .option("--repair", "put drifted settings back (the scheduled audit does)")
    .option("--json", "print JSON for scripts")
    .action(audit);
}

async function audit(options: { repair?: boolean; json?: boolean }, command: Command): Promise<void> {
  const report = await auditDeployment(await deploymentFor(command), options.repair ?? false);
  if (options.json) return printJson(report);
  printAudit(report);
  if (report.drift.some((d) => !d.repaired)) process.exitCode = 1;
}

async function auditDeployment(deployment: Deployment, repair: boolean): Promise<AuditReport> {
  const { auditBucket } = await import("../../../shared/bucket/audit");
  const { parseIntendedEncryption } = await import("../../../shared/contracts/storage-policy");
  const intended = {
    encryption: parseIntendedEncryption(deployment.encryption ?? "AES256"),
    repair,
    // A plain-HTTP endpoint (the local stack) cannot have a TLS-only policy.
    tlsOnlyPolicy: !deployment.endpoint?.startsWith("http:"),
  };
  return auditBucket(await s3Client(), deployment.bucket, intended, silentLog, new Date());
}
