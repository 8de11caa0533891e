import { type DrillRecord, prunedRepository } from "../../shared/drills/record";
import { bytes, printFields, printTable, shortTime } from "./format";

export function printDrills(drills: DrillRecord[]): void {
  if (drills.length === 0) {
    console.log("No drills yet: restorable drill run --source <name> --wait");
    return;
  }
  printTable(
    ["DRILL", "SOURCE", "BACKUP", "STATUS", "RTO", "REASON"],
    drills.map((drill) => [
      drill.id,
      drill.source,
      drill.backupId ?? "-",
      drill.status,
      // A prune job's duration is no recovery time.
      drill.phases.total === null || drill.kind === "prune" ? "-" : `${drill.phases.total}s`,
      drill.reason ?? "",
    ]),
  );
}

export function printDrill(drill: DrillRecord): void {
  const phase = (value: number | null) => (value === null ? "-" : `${value} s`);
  if (drill.kind === "prune") {
    printFields([
      ["job", `restic prune of repository ${prunedRepository(drill.source) ?? drill.source}`],
      ["drill", drill.id],
      ["status", drill.status + (drill.reason ? ` (${drill.reason})` : "")],
      ["started", shortTime(drill.startedAt)],
      ["finished", drill.finishedAt ? shortTime(drill.finishedAt) : "-"],
      ["instance", drill.instanceId ?? "-"],
      [
        "took",
        `${phase(drill.phases.total)} (launch ${phase(drill.phases.launch)}, prune ${phase(drill.phases.restore)}, check ${phase(drill.phases.verify)})`,
      ],
    ]);
    printChecks(drill);
    return;
  }
  printFields([
    ["drill", drill.id],
    ["source", drill.source],
    ["backup", drill.backupId ?? "-"],
    ["status", drill.status + (drill.reason ? ` (${drill.reason})` : "")],
    ["started", shortTime(drill.startedAt)],
    ["finished", drill.finishedAt ? shortTime(drill.finishedAt) : "-"],
    ["instance", drill.instanceId ?? "-"],
    [
      "restore time",
      `${phase(drill.phases.total)} (launch ${phase(drill.phases.launch)}, download ${phase(drill.phases.download)}, verify ${phase(drill.phases.verify)}, restore ${phase(drill.phases.restore)}, checks ${phase(drill.phases.checks)})`,
    ],
    ["bytes", `${bytes(drill.bytes.downloaded)} downloaded, ${bytes(drill.bytes.restored)} restored`],
    ...(drill.resticSubset
      ? ([["restic check", `read-data subset ${drill.resticSubset.k}/${drill.resticSubset.n}`]] as [string, string][])
      : []),
  ]);
  printChecks(drill);
}

function printChecks(drill: DrillRecord): void {
  if (drill.checks.length === 0) return;
  console.log("");
  printTable(
    ["CHECK", "RESULT", "DETAIL"],
    drill.checks.map((check) => [check.name, check.passed ? "passed" : "FAILED", check.detail]),
  );
}
