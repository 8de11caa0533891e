import { GetObjectCommand, HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { isMissingObject } from "../aws/s3-errors";
import type { AlertStore } from "../catalog/alerts";
import type { CatalogStore } from "../catalog/store";
import { InvalidInputError } from "../errors";
import type { RepositoryStore } from "../restic/ports";
import { parseJsonWith } from "../validation";
import { drillKeys } from "./layout";
import { DEFAULT_DRILL_PLAN } from "./plan";
import type { DrillStore } from "./ports";
import {
  type AgentReport,
  AgentReportSchema,
  type CheckResult,
  type DrillRecord,
  prunedRepository,
  type TableCount,
} from "./record";

/** How the state machine got to its last step: the agent's report, or what stopped it. */
export interface FinishInput {
  drillId: string;
  /** Instances the launch step started (a one-element list; the emulator nests it once more). */
  instanceIds: unknown;
  /** Set when a step failed: `States.Timeout` (no heartbeat or report in time), a launch refusal, … */
  failure: { Error?: string; Cause?: string } | null;
}

export interface FinishDependencies {
  s3: S3Client;
  bucket: string;
  catalog: Pick<CatalogStore, "getBackup" | "recordDrill">;
  drills: Pick<DrillStore, "get" | "update" | "newestPassed" | "getPlan">;
  alerts: Pick<AlertStore, "raiseOnce">;
  /** A prune job's result is kept with its repository. */
  repositories: Pick<RepositoryStore, "recordPrune">;
  now: () => Date;
}

/**
 * Judges a drill and records it: the agent's checks, plus those only the cloud side can make (is the set's
 * master key held; did a table vanish or lose most of its rows since the last passing drill). FAILED means
 * the backup is at fault, ERROR that the drill could not tell. Each backup keeps its last drill, each source
 * its last proof of restorability; a drill that did not pass raises one alert.
 */
export async function finishDrill(input: FinishInput, deps: FinishDependencies): Promise<DrillRecord> {
  const record = await deps.drills.get(input.drillId);
  if (!record) throw new InvalidInputError("unknown-drill", `no drill ${input.drillId}`);
  const instanceId = firstInstanceId(input.instanceIds);
  const finished = record.status === "RUNNING" ? await judge(record, input, instanceId, deps) : record;
  if (finished.backupId && record.status === "RUNNING") {
    const at = finished.finishedAt ?? deps.now().toISOString();
    await deps.catalog.recordDrill(
      finished.backupId,
      { id: finished.id, status: finished.status, at },
      finished.status === "PASSED"
        ? { backupId: finished.backupId, drillId: finished.id, at, rtoSeconds: finished.phases.total }
        : null,
    );
  }
  const pruned = finished.kind === "prune" ? prunedRepository(finished.source) : undefined;
  if (pruned && record.status === "RUNNING" && finished.status !== "RUNNING") {
    await deps.repositories.recordPrune(pruned, {
      drillId: finished.id,
      status: finished.status,
      at: finished.finishedAt ?? deps.now().toISOString(),
      reason: finished.reason,
    });
  }
  if (finished.status !== "PASSED") await alert(finished, deps);
  return finished;
}

async function judge(
  record: DrillRecord,
  input: FinishInput,
  instanceId: string | null,
  deps: FinishDependencies,
): Promise<DrillRecord> {
  const finishedAt = deps.now().toISOString();
  const base = { finishedAt, ...(instanceId ? { instanceId } : {}) };
  let report: AgentReport | undefined;
  try {
    report = await readReport(record.id, deps);
  } catch (error) {
    return (await deps.drills.update(record.id, {
      ...base,
      status: "ERROR",
      reason: (error as Error).message,
    })) as DrillRecord;
  }
  if (!report) {
    const reason = failureReason(input.failure, instanceId);
    return (await deps.drills.update(record.id, { ...base, status: "ERROR", reason })) as DrillRecord;
  }
  const checks = [...report.checks, ...(await cloudChecks(record, report, deps))];
  const failed = checks.find((check) => !check.passed);
  const status = failed ? "FAILED" : report.error ? "ERROR" : "PASSED";
  const reason = failed
    ? `${failed.name}: ${failed.detail}`
    : report.error
      ? `the agent stopped: ${report.error}`
      : null;
  const started = Date.parse(record.startedAt);
  return (await deps.drills.update(record.id, {
    ...base,
    status,
    reason,
    checks,
    phases: {
      ...report.phases,
      launch: seconds(started, Date.parse(report.startedAt)),
      total: seconds(started, Date.parse(report.finishedAt)),
    },
    bytes: report.bytes,
    baseline: report.baseline,
    resticSubset: report.resticSubset,
    reportKey: drillKeys(record.id).report,
  })) as DrillRecord;
}

async function readReport(drillId: string, deps: FinishDependencies): Promise<AgentReport | undefined> {
  let text: string;
  try {
    const object = await deps.s3.send(new GetObjectCommand({ Bucket: deps.bucket, Key: drillKeys(drillId).report }));
    text = (await object.Body?.transformToString("utf-8")) ?? "";
  } catch (error) {
    if (isMissingObject(error)) return undefined;
    throw error;
  }
  try {
    return parseJsonWith(AgentReportSchema, text, "drill agent report");
  } catch (error) {
    throw new InvalidInputError("unreadable-report", `the agent's report cannot be read: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Whether the agent's report has arrived (a report can come before the step that waits for it). */
export async function reportArrived(s3: S3Client, bucket: string, drillId: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: drillKeys(drillId).report }));
    return true;
  } catch (error) {
    if (isMissingObject(error)) return false;
    throw error;
  }
}

async function cloudChecks(record: DrillRecord, report: AgentReport, deps: FinishDependencies): Promise<CheckResult[]> {
  if (record.kind !== "dumpset" || !record.backupId) return [];
  const set = await deps.catalog.getBackup(record.backupId);
  const checks: CheckResult[] = [];
  if (set?.kind === "dumpset") {
    checks.push(
      set.masterKeyHeld === false
        ? {
            name: "master-key",
            passed: false,
            detail: `master key ${set.masterKeyId} is not held by the service: the restored secrets cannot be decrypted`,
          }
        : {
            name: "master-key",
            passed: true,
            detail: set.masterKeyId ? `master key ${set.masterKeyId} is held` : "the set names no master key",
          },
    );
  }
  if (report.baseline) {
    const previous = await deps.drills.newestPassed(record.source);
    const plan = (await deps.drills.getPlan(record.source))?.plan ?? DEFAULT_DRILL_PLAN;
    if (previous?.baseline && previous.id !== record.id) {
      checks.push(
        compareBaseline(previous.baseline, report.baseline, plan.checks.rowDropTolerancePercent, previous.id),
      );
    }
  }
  return checks;
}

/** A table of the last passing drill that is gone, or whose rows fell by more than the tolerance, fails. */
export function compareBaseline(
  previous: readonly TableCount[],
  current: readonly TableCount[],
  tolerancePercent: number,
  previousDrillId: string,
): CheckResult {
  const now = new Map(current.map((table) => [table.table, table.rows]));
  const problems: string[] = [];
  for (const table of previous) {
    const rows = now.get(table.table);
    if (rows === undefined) problems.push(`table ${table.table} vanished (had ${table.rows} rows)`);
    else if (table.rows > 0 && ((table.rows - rows) / table.rows) * 100 > tolerancePercent) {
      problems.push(
        `table ${table.table}: rows fell from ${table.rows} to ${rows} (${Math.round(((table.rows - rows) / table.rows) * 100)}%, more than the ${tolerancePercent}% allowed)`,
      );
    }
  }
  return problems.length > 0
    ? { name: "baseline-drift", passed: false, detail: `since drill ${previousDrillId}: ${problems.join("; ")}` }
    : {
        name: "baseline-drift",
        passed: true,
        detail: `${current.length} tables, none lost or shrunk beyond ${tolerancePercent}% since drill ${previousDrillId}`,
      };
}

function failureReason(failure: FinishInput["failure"], instanceId: string | null): string {
  const cause = failure?.Cause ? `: ${failure.Cause.slice(0, 500)}` : "";
  if (!failure) return "the agent sent no report";
  if (/Timeout/.test(failure.Error ?? "")) {
    return instanceId
      ? "heartbeat: the agent stopped reporting (no heartbeat or report in time); the instance was terminated"
      : `timed out${cause}`;
  }
  if (!instanceId) return `launch: the instance could not be started (${failure.Error ?? "error"}${cause})`;
  return `${failure.Error ?? "the drill failed"}${cause}`;
}

async function alert(drill: DrillRecord, deps: FinishDependencies): Promise<void> {
  await deps.alerts.raiseOnce(
    `drill:${drill.id}`,
    {
      kind: "drill-failed",
      subject: drill.source,
      message: `${drill.kind === "prune" ? `restic prune ${drill.id} of repository ${prunedRepository(drill.source)}` : `restore drill ${drill.id} of ${drill.source}`}${drill.backupId ? ` (backup ${drill.backupId})` : ""} ${drill.status}: ${drill.reason ?? "no reason recorded"}; restorable drill show ${drill.id}`,
      details: { drillId: drill.id, status: drill.status, backupId: drill.backupId, reason: drill.reason },
    },
    deps.now(),
  );
}

function firstInstanceId(ids: unknown): string | null {
  const flat = [ids].flat(3).filter((id): id is string => typeof id === "string");
  return flat[0] ?? null;
}

function seconds(from: number, to: number): number | null {
  return Number.isFinite(from) && Number.isFinite(to) && to >= from ? Math.round((to - from) / 100) / 10 : null;
}
