import * as z from "zod";
import { CatalogComponentSchema } from "../catalog/entry";
import { SmokeCommandSchema, SqlAssertionSchema } from "./plan";

/**
 * Everything the drill agent on a throwaway instance needs, and nothing more: presigned URLs to read the
 * pinned versions of the one backup it drills and to write its report and heartbeats. The instance has no
 * AWS identity of its own for a dump set; a secret reaches it only when the plan opts in (the smoke
 * command's master key). Written to the bucket by the prepare step; the instance gets a presigned URL to it.
 */
export const DumpSetDrillSchema = z.object({
  kind: z.literal("dumpset"),
  setId: z.string(),
  /** Each component with a presigned GET of its pinned version; the agent verifies SHA-256 while reading. */
  components: z.array(CatalogComponentSchema.extend({ url: z.url() })),
  sql: z.array(SqlAssertionSchema),
  smoke: SmokeCommandSchema.nullable(),
  /** Only when the plan's smoke command opts in. */
  masterKey: z.string().nullable(),
});

export const ResticDrillSchema = z.object({
  kind: z.literal("restic"),
  snapshotId: z.string(),
  /** restic's `-r` argument. */
  repository: z.string(),
  /** What restic's S3 backend needs in its environment (credentials scoped to this repository, region). */
  environment: z.record(z.string(), z.string()),
  password: z.string(),
  /** The snapshot's recorded summary, to compare the restore with (null when restic < 0.17 wrote it). */
  expected: z.object({ files: z.number().int().nullable(), bytes: z.number().int().nullable() }),
  /** `restic check --read-data-subset=k/n`. */
  subset: z.object({ k: z.number().int().positive(), n: z.number().int().positive() }),
});

/**
 * The maintenance job: `restic prune` of a repository whose snapshots retention forgot, then `restic check`.
 * Its instance runs with the prune role, the only identity that may delete restic's data/ and index/ files.
 */
export const ResticPruneSchema = z.object({
  kind: z.literal("restic-prune"),
  repositoryName: z.string(),
  repository: z.string(),
  environment: z.record(z.string(), z.string()),
  password: z.string(),
});

export const AgentConfigSchema = z.object({
  format: z.literal("restorable.drill/v1"),
  drillId: z.string(),
  source: z.string(),
  /** Report and heartbeat: presigned PUTs of drills/<source>/<drill>/report.json and heartbeat.json. */
  reportUrl: z.url(),
  heartbeatUrl: z.url(),
  heartbeatSeconds: z.number().int().positive(),
  /** The instance shuts itself down at this time whatever happens (terminate-on-shutdown). */
  deadline: z.iso.datetime({ offset: true }),
  drill: z.discriminatedUnion("kind", [DumpSetDrillSchema, ResticDrillSchema, ResticPruneSchema]),
});
export type AgentConfig = z.infer<typeof AgentConfigSchema>;
export type DumpSetDrill = z.infer<typeof DumpSetDrillSchema>;
export type ResticDrill = z.infer<typeof ResticDrillSchema>;
export type ResticPrune = z.infer<typeof ResticPruneSchema>;

/** The user-data line that tells the instance (and the local stack's hypervisor) where its config is. */
export const CONFIG_URL_LINE = "RESTORABLE_DRILL_CONFIG_URL=";
