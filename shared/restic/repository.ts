import * as z from "zod";
import { RepositoryNameSchema, resticRepositoryPrefix } from "../contracts/layout";

/** How snapshots are grouped into sources, as restic's `--group-by`: each group is a source of its own. */
export const GroupByFieldSchema = z.enum(["host", "paths", "tags"]);
export type GroupByField = z.infer<typeof GroupByFieldSchema>;
export const DEFAULT_GROUP_BY: GroupByField[] = ["host", "tags"];

/**
 * Whether the indexer can open the repository (its password, its key files). Integrity, which the
 * verifier checks without the password, is kept apart in the verification state.
 */
export const RepositoryHealthSchema = z.object({
  status: z.enum(["OK", "UNREADABLE"]),
  reason: z.string().nullable(),
  since: z.iso.datetime({ offset: true }),
});
export type RepositoryHealth = z.infer<typeof RepositoryHealthSchema>;

export const VerificationRunSchema = z.object({
  at: z.iso.datetime({ offset: true }),
  slice: z.number().int().nonnegative(),
  slices: z.number().int().positive(),
  objectsChecked: z.number().int().nonnegative(),
  bytesChecked: z.number().int().nonnegative(),
  /** Keys whose stored bytes do not hash to their name. */
  mismatches: z.array(z.string()),
});
export type VerificationRun = z.infer<typeof VerificationRunSchema>;

export const VerificationStateSchema = z.object({
  /** How many runs stored their result: a run stores only if nobody else did since it read this. */
  runs: z.number().int().nonnegative(),
  /** The slice the next run checks; slices are chosen by the file name's leading hex digits. */
  nextSlice: z.number().int().nonnegative(),
  /** When each slice was last checked, by slice number: the repository is covered since the oldest. */
  sliceCheckedAt: z.record(z.string(), z.iso.datetime({ offset: true })),
  lastRun: VerificationRunSchema.nullable(),
  /** Every mismatch found and not yet seen fixed, with when it was found. */
  openMismatches: z.record(z.string(), z.iso.datetime({ offset: true })),
});
export type VerificationState = z.infer<typeof VerificationStateSchema>;

/**
 * `restic prune` of a repository, run by the drill runner as a maintenance job: requested whenever retention
 * forgets snapshots in it, started once per request (claimed with a conditional write), its last result kept.
 */
export const PruneStateSchema = z.object({
  requestedAt: z.iso.datetime({ offset: true }).nullable(),
  startedAt: z.iso.datetime({ offset: true }).nullable(),
  last: z
    .object({
      drillId: z.string(),
      status: z.enum(["PASSED", "FAILED", "ERROR"]),
      at: z.iso.datetime({ offset: true }),
      reason: z.string().nullable(),
    })
    .nullable(),
});
export type PruneState = z.infer<typeof PruneStateSchema>;

export const ResticRepositorySchema = z.object({
  name: RepositoryNameSchema,
  /** Secrets Manager secret holding the repository password (see resticSecretName). */
  secretName: z.string().min(1),
  groupBy: z.array(GroupByFieldSchema),
  /** The verifier covers the whole repository once every this many runs. */
  verifySlices: z.number().int().min(1).max(4096),
  createdAt: z.iso.datetime({ offset: true }),
  health: RepositoryHealthSchema.nullable(),
  verification: VerificationStateSchema.nullable(),
  /** Kept beside the repository in the catalog (see PruneStateSchema); absent until retention first forgets. */
  prune: PruneStateSchema.nullish(),
});
export type ResticRepository = z.infer<typeof ResticRepositorySchema>;

export const DEFAULT_VERIFY_SLICES = 30;

/**
 * One secret per repository, named after the deployment's bucket so two deployments in one account
 * never share a name: `restorable/<bucket>/restic/<repository>`. The secret's string is the password.
 */
export function resticSecretName(bucket: string, repository: string): string {
  return `restorable/${bucket}/restic/${repository}`;
}

export function resticSecretPrefix(bucket: string): string {
  return `restorable/${bucket}/restic/`;
}

/**
 * The `-r` argument to give restic. Real S3 uses the regional endpoint; an emulator or private
 * endpoint is spelled out with its scheme, which restic accepts (`s3:http://host:port/bucket/prefix`).
 */
export function resticRepositoryUrl(options: {
  bucket: string;
  repository: string;
  region: string;
  endpoint?: string;
}): string {
  const prefix = resticRepositoryPrefix(options.repository).replace(/\/$/, "");
  const host = options.endpoint ? options.endpoint.replace(/\/$/, "") : `s3.${options.region}.amazonaws.com`;
  return `s3:${host}/${options.bucket}/${prefix}`;
}

export interface SnapshotGroupFields {
  hostname: string | null;
  paths: string[];
  tags: string[];
}

/**
 * The tag that puts a backup on legal hold (`restic tag --add legal-hold <id>`; retention's default floor).
 * It never moves a snapshot to another source, so it is left out when snapshots are grouped by tags.
 */
export const LEGAL_HOLD_TAG = "legal-hold";

/**
 * The source a snapshot belongs to: its repository and its restic group, spelled like restic's
 * group key (`host [ws1] tags [workspace-id:abc]`) so it reads the same as `restic snapshots --group-by`.
 * The legal-hold tag does not count: holding a snapshot must not split its workspace's history.
 */
export function resticSourceName(
  repository: string,
  groupBy: readonly GroupByField[],
  snapshot: SnapshotGroupFields,
): string {
  const parts: string[] = [];
  if (groupBy.includes("host")) parts.push(`host [${snapshot.hostname ?? ""}]`);
  if (groupBy.includes("paths")) parts.push(`paths [${[...snapshot.paths].sort().join(", ")}]`);
  if (groupBy.includes("tags")) {
    const grouping = snapshot.tags.filter((tag) => tag !== LEGAL_HOLD_TAG);
    parts.push(`tags [${grouping.sort().join(", ")}]`);
  }
  return parts.length > 0 ? `restic:${repository} ${parts.join(" ")}` : `restic:${repository}`;
}
