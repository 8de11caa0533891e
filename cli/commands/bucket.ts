import type { Command } from "commander";
import { s3Client } from "../aws";
import { deploymentFor } from "../context";
import { printJson, printTable } from "../output";

export function registerBucketCommands(program: Command): void {
  const bucket = program.command("bucket").description("The backup bucket's own settings");
  bucket
    .command("audit")
    .description("Compare the bucket's lifecycle, versioning, encryption and public access with the intended ones")
    .option("--repair", "put drifted settings back (the scheduled audit does)")
    .option("--json", "print JSON for scripts")
    .action(async (options: { repair?: boolean; json?: boolean }, command: Command) => {
      const deployment = await deploymentFor(command);
      const { auditBucket } = await import("../../shared/bucket/audit");
      const { parseIntendedEncryption } = await import("../../shared/contracts/storage-policy");
      const report = await auditBucket(
        await s3Client(),
        deployment.bucket,
        {
          encryption: parseIntendedEncryption(deployment.encryption ?? "AES256"),
          repair: options.repair ?? false,
          // A plain-HTTP endpoint (the local stack) cannot have a TLS-only policy.
          tlsOnlyPolicy: !deployment.endpoint?.startsWith("http:"),
        },
        { debug() {}, info() {}, warn() {}, error() {} },
        new Date(),
      );
      if (options.json) return printJson(report);
      if (report.drift.length === 0) return console.log(`${deployment.bucket}: every setting is as intended.`);
      printTable(
        ["SETTING", "EXPECTED", "FOUND", "REPAIRED"],
        report.drift.map((d) => [d.setting, oneLine(d.expected), oneLine(d.found), d.repaired ? "yes" : "no"]),
      );
      if (report.drift.some((d) => !d.repaired)) process.exitCode = 1;
    });
}

function oneLine(text: string): string {
  return text.length > 60 ? `${text.replace(/\s+/g, " ").slice(0, 57)}...` : text.replace(/\s+/g, " ");
}
