import * as z from "zod";
import { ManifestComponentSchema } from "../dumpset/manifest";

/**
 * - COMPLETE: every component present with the declared size and SHA-256 (a restic snapshot: its
 *   file hashes to its name and decrypts)
 * - INCOMPLETE: a component is missing (an upload cut short, or events that have not all arrived)
 * - CORRUPT: the manifest is malformed, or a component's size or SHA-256 differs from the manifest
 *   (a restic snapshot: its bytes do not hash to its name, or it does not decrypt or parse)
 * - UNREADABLE: a restic snapshot we cannot open yet (unknown repository, wrong or missing password);
 *   re-indexed once the repository's password is fixed
 * - REMOVED: deleted by retention (dump sets); the entry stays as history
 * - FORGOTTEN: the snapshot file was deleted from its restic repository; the entry stays as history
 * - REWRITTEN: restic rewrote the snapshot under a new id (`restic tag`, `restic rewrite`); the new entry
 *   carries on in the same source, and this one stays as history, pointing at it
 */
export const BackupStatusSchema = z.enum([
  "COMPLETE",
  "INCOMPLETE",
  "CORRUPT",
  "UNREADABLE",
  "REMOVED",
  "FORGOTTEN",
  "REWRITTEN",
]);

/** Statuses that a later look may find out of date (the set finished arriving, the password was fixed). */
export const PROVISIONAL_STATUSES: readonly BackupStatus[] = ["INCOMPLETE", "UNREADABLE"];
/** Statuses that are history: re-evaluation does not rewrite them. */
export const FINAL_STATUSES: readonly BackupStatus[] = ["REMOVED", "FORGOTTEN", "REWRITTEN"];
export type BackupStatus = z.infer<typeof BackupStatusSchema>;

const IsoDateTimeSchema = z.iso.datetime({ offset: true });

/**
 * A restore drill's outcome (shared/drills/record.ts):
 * - RUNNING: started, no result yet
 * - PASSED: the backup restored and every check passed
 * - FAILED: the backup does not restore, or a check failed: the backup is the problem
 * - ERROR: the drill itself could not run (no backup to drill, no capacity, the agent never reported)
 */
export const DrillStatusSchema = z.enum(["RUNNING", "PASSED", "FAILED", "ERROR"]);
export type DrillStatus = z.infer<typeof DrillStatusSchema>;

/** The last drill of a backup, kept on its entry; `catalog show` prints it. */
export const LastDrillSchema = z.object({ id: z.string(), status: DrillStatusSchema, at: IsoDateTimeSchema });
export type LastDrill = z.infer<typeof LastDrillSchema>;

/** When a source was last proven restorable, by which backup, and how long the drill's restore took (RTO). */
export const ProvenRestorableSchema = z.object({
  backupId: z.string(),
  drillId: z.string(),
  at: IsoDateTimeSchema,
  rtoSeconds: z.number().nonnegative().nullable(),
});
export type ProvenRestorable = z.infer<typeof ProvenRestorableSchema>;

const BackupEntryBaseSchema = z.object({
  id: z.string().min(1),
  source: z.string().min(1),
  createdAt: IsoDateTimeSchema,
  status: BackupStatusSchema,
  /** Why the status is what it is, or a warning about a COMPLETE backup (a master key not held); null otherwise. */
  statusReason: z.string().nullable(),
  statusChangedAt: IsoDateTimeSchema,
  hostname: z.string().nullable(),
  tags: z.array(z.string()),
  sizeBytes: z.number().int().nonnegative().nullable(),
  indexedAt: IsoDateTimeSchema,
  lastDrill: LastDrillSchema.nullable().default(null),
});

/** A component as the catalog keeps it: the manifest's record, and the S3 version the catalog pins. */
export const CatalogComponentSchema = ManifestComponentSchema.extend({
  /**
   * The version of the object that was committed with the set: what restores and drills read, whatever was
   * written to the key later. null for a component not there yet.
   */
  versionId: z.string().nullable().default(null),
  /**
   * When the committed version was replaced and put back by copying it (its bytes and S3 checksum equal),
   * the copy's version: the current one. The committed version stays, and stays pinned.
   */
  healedVersionId: z.string().nullable().default(null),
});
export type CatalogComponent = z.infer<typeof CatalogComponentSchema>;

export const DumpSetEntrySchema = BackupEntryBaseSchema.extend({
  kind: z.literal("dumpset"),
  manifestKey: z.string(),
  /** S3 version (or ETag) of the manifest evaluated; entries for the same version are not downgraded. */
  manifestVersion: z.string().nullable(),
  serverVersion: z.string().nullable(),
  masterKeyId: z.string().nullable(),
  /** Whether the service holds the set's master key; null when unknown (no key id, or no keyring yet). */
  masterKeyHeld: z.boolean().nullable().default(null),
  components: z.array(CatalogComponentSchema),
  /** Every problem found, one line each; statusReason summarises them. */
  problems: z.array(z.string()),
});
export type DumpSetEntry = z.infer<typeof DumpSetEntrySchema>;

export const ResticSnapshotEntrySchema = BackupEntryBaseSchema.extend({
  kind: z.literal("restic"),
  repository: z.string(),
  /** The key of the snapshot file, restic/<repository>/snapshots/<id>. */
  snapshotKey: z.string(),
  /** restic's own time string (nanoseconds, original zone): createdAt is its UTC form. */
  resticTime: z.string().nullable(),
  username: z.string().nullable(),
  paths: z.array(z.string()),
  tree: z.string().nullable(),
  parent: z.string().nullable(),
  programVersion: z.string().nullable(),
  /** restic's summary statistics, when the restic that wrote the snapshot recorded them (≥ 0.17). */
  summary: z.record(z.string(), z.unknown()).nullable(),
  /** When the snapshot file was deleted from the repository. */
  forgottenAt: IsoDateTimeSchema.nullable(),
  /** restic's `original`: the id of the snapshot this one rewrites (`restic tag`), kept across rewrites. */
  original: z.string().nullable().default(null),
  /** Set on a REWRITTEN entry: the id of the snapshot that replaced it. */
  rewrittenAs: z.string().nullable().default(null),
});
export type ResticSnapshotEntry = z.infer<typeof ResticSnapshotEntrySchema>;

export const BackupEntrySchema = z.discriminatedUnion("kind", [DumpSetEntrySchema, ResticSnapshotEntrySchema]);
export type BackupEntry = z.infer<typeof BackupEntrySchema>;

export const BackupSummarySchema = z.object({
  id: z.string(),
  createdAt: IsoDateTimeSchema,
  status: BackupStatusSchema,
});
export type BackupSummary = z.infer<typeof BackupSummarySchema>;

export const SourceEntrySchema = z.object({
  source: z.string(),
  kind: z.enum(["dumpset", "restic"]),
  latest: BackupSummarySchema.nullable(),
  latestComplete: BackupSummarySchema.nullable(),
  lastProvenRestorable: ProvenRestorableSchema.nullable().default(null),
  updatedAt: IsoDateTimeSchema,
});
export type SourceEntry = z.infer<typeof SourceEntrySchema>;

export function summarise(entry: BackupEntry): BackupSummary {
  return { id: entry.id, createdAt: entry.createdAt, status: entry.status };
}
