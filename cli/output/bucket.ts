import type { AuditReport } from "../../shared/bucket/audit";

/**
 * `bucket audit`: each drifted setting with the expected and found values in full (a lifecycle's JSON is
 * long, and cutting it would hide the difference), continuation lines indented under their label.
 */
export function printAudit(report: AuditReport): void {
  if (report.drift.length === 0) {
    console.log(`${report.bucket}: every setting is as intended.`);
    return;
  }
  for (const [index, drift] of report.drift.entries()) {
    if (index > 0) console.log("");
    console.log(`${drift.setting}: ${drift.repaired ? "drifted, repaired" : "drifted, not repaired"}`);
    console.log(`  expected: ${indented(drift.expected)}`);
    console.log(`  found:    ${indented(drift.found)}`);
  }
}

function indented(text: string): string {
  return text.replaceAll("\n", "\n            ");
}
