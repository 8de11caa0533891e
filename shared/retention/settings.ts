import * as z from "zod";
import { LEGAL_HOLD_TAG } from "../restic/repository";
import { DEFAULT_DUMPSET_POLICY, type RetentionPolicy, RetentionPolicySchema } from "./policy";

/**
 * Floors no policy can go below; they protect against a mistaken policy and against a compromised
 * host that floods a source with fake backups dated later in each period (restic's docs warn that
 * an append-only client can trick forget that way). None of them is in restic, AWS Backup or the
 * seed's rotation.
 */
export const SafetyFloorsSchema = z.strictObject({
  /** The newest this-many COMPLETE backups of a source are always kept. */
  keepNewestComplete: z.number().int().min(0).max(10_000),
  /** The newest backup whose restore drill passed is always kept. */
  keepNewestDrillPassed: z.boolean(),
  /** A backup carrying any of these tags is never removed. */
  legalHoldTags: z.array(z.string().min(1)),
  /** A run that would remove more than this fraction of a source's backups is refused. */
  maxRemovalFraction: z.number().min(0).max(1),
  /** A run that would remove a backup younger than this is refused. */
  protectNewerThanHours: z.number().min(0),
});
export type SafetyFloors = z.infer<typeof SafetyFloorsSchema>;

export const DEFAULT_SAFETY_FLOORS: Readonly<SafetyFloors> = Object.freeze({
  keepNewestComplete: 3,
  keepNewestDrillPassed: true,
  legalHoldTags: [LEGAL_HOLD_TAG],
  maxRemovalFraction: 0.5,
  protectNewerThanHours: 24,
});

/**
 * What retention applies to a source. Stored per source, or per restic repository for all its
 * sources (each workspace is a source); the most specific wins. Dump sets default to the backup
 * page's GFS rotation; restic sources have no default, so nothing of a repository is forgotten
 * until someone decides how much to keep.
 */
export const RetentionSettingsSchema = z.strictObject({
  policy: RetentionPolicySchema,
  floors: SafetyFloorsSchema.partial().default({}),
});
export type RetentionSettings = z.infer<typeof RetentionSettingsSchema>;

export type SettingsScope = { kind: "source"; source: string } | { kind: "repository"; repository: string };

/**
 * Where the retention of a source comes from, most specific first: its own settings, its restic
 * repository's, the dump-set default, or none (a restic source nobody has set a policy for).
 */
export type SettingsOrigin =
  | { kind: "source" }
  | { kind: "repository"; repository: string }
  | { kind: "default" }
  | { kind: "none" };

export function defaultSettingsFor(kind: "dumpset" | "restic"): RetentionSettings | undefined {
  return kind === "dumpset" ? { policy: { ...DEFAULT_DUMPSET_POLICY }, floors: {} } : undefined;
}

export function effectiveFloors(settings: RetentionSettings): SafetyFloors {
  return { ...DEFAULT_SAFETY_FLOORS, ...settings.floors };
}

export type { RetentionPolicy };
