import * as z from "zod";
import { DrillStatusSchema } from "../catalog/entry";

const IsoSchema = z.iso.datetime({ offset: true });

export { type DrillStatus, DrillStatusSchema } from "../catalog/entry";

export const CheckResultSchema = z.object({
  /** integrity, archive-readable, restore, baseline, sql:<name>, master-key, smoke, restic-restore, restic-check… */
  name: z.string(),
  passed: z.boolean(),
  detail: z.string(),
});
export type CheckResult = z.infer<typeof CheckResultSchema>;

/** Seconds per phase; total (launch to report) is the drill's measured recovery time (RTO). */
export const PhasesSchema = z.object({
  launch: z.number().nonnegative().nullable(),
  download: z.number().nonnegative().nullable(),
  verify: z.number().nonnegative().nullable(),
  restore: z.number().nonnegative().nullable(),
  checks: z.number().nonnegative().nullable(),
  total: z.number().nonnegative().nullable(),
});
export type Phases = z.infer<typeof PhasesSchema>;

export const NO_PHASES: Phases = {
  launch: null,
  download: null,
  verify: null,
  restore: null,
  checks: null,
  total: null,
};

/** A restored database's shape, compared drill to drill: a table that vanished or lost most rows fails. */
export const TableCountSchema = z.object({ table: z.string(), rows: z.number().int().nonnegative() });
export type TableCount = z.infer<typeof TableCountSchema>;

/** What the drill agent uploads (via a presigned PUT) when it is done, whatever happened. */
export const AgentReportSchema = z.object({
  drillId: z.string(),
  agentVersion: z.string(),
  startedAt: IsoSchema,
  finishedAt: IsoSchema,
  checks: z.array(CheckResultSchema),
  phases: PhasesSchema.omit({ launch: true, total: true }),
  bytes: z.object({ downloaded: z.number().int().nonnegative(), restored: z.number().int().nonnegative() }),
  /** Dump sets: table row counts of the restored database. */
  baseline: z.array(TableCountSchema).nullable(),
  /** restic: which read-data subset was checked. */
  resticSubset: z.object({ k: z.number().int().positive(), n: z.number().int().positive() }).nullable(),
  /** The agent could not finish (a crash, a missing tool): the drill is ERROR unless a check already failed. */
  error: z.string().nullable(),
});
export type AgentReport = z.infer<typeof AgentReportSchema>;

export const DrillRecordSchema = z.object({
  id: z.string(),
  source: z.string(),
  backupId: z.string().nullable(),
  /** What was drilled; "prune" for the maintenance job that runs `restic prune` on a repository. */
  kind: z.enum(["dumpset", "restic", "prune"]).nullable(),
  status: DrillStatusSchema,
  /** Why it FAILED or ERRORed: the failing check, or what stopped the drill. */
  reason: z.string().nullable(),
  trigger: z.enum(["schedule", "manual"]),
  startedAt: IsoSchema,
  finishedAt: IsoSchema.nullable(),
  executionArn: z.string().nullable(),
  instanceId: z.string().nullable(),
  checks: z.array(CheckResultSchema),
  phases: PhasesSchema,
  bytes: z.object({ downloaded: z.number().int().nonnegative(), restored: z.number().int().nonnegative() }),
  baseline: z.array(TableCountSchema).nullable(),
  resticSubset: z.object({ k: z.number().int().positive(), n: z.number().int().positive() }).nullable(),
  /** The agent's full report in the bucket. */
  reportKey: z.string().nullable(),
  /** When the instance must be gone: the janitor terminates any drill instance past it. */
  deadline: IsoSchema.nullable(),
});
export type DrillRecord = z.infer<typeof DrillRecordSchema>;

/** A drill id sorts by time: `d-20261203T020000Z-<8 hex>`. */
/** The drill records of a repository's prune jobs are filed under this source. */
export function pruneSource(repository: string): string {
  return `prune:${repository}`;
}

export function prunedRepository(source: string): string | undefined {
  return /^prune:(.+)$/.exec(source)?.[1];
}

export function makeDrillId(at: Date, random: string): string {
  const stamp = at
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replace(/[-:]/g, "");
  return `d-${stamp}-${random.slice(0, 8)}`;
}
