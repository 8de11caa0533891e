import * as z from "zod";

/**
 * Where things live in the backup bucket. Every source has its own prefix so that a host's
 * credentials can be limited to it, and restic repositories live under their own prefix so that
 * lifecycle rules can leave them alone.
 *
 *   sets/<source>/<setId>/<component>                 dump-set components (files, directory archives)
 *   sets/<source>/<setId>/restorable.manifest.json    written last: its arrival commits the set
 *   incoming/<source>/<setId>/restorable.manifest.json  a host's request to commit its set: the
 *                                                  service writes the manifest under sets/ (hosts cannot)
 *   restic/<repository>/{config,keys/,snapshots/,index/,data/,locks/}   plain restic repositories
 *   retention/plans/…                              stored retention plans
 */
export const SETS_PREFIX = "sets/";
export const RESTIC_PREFIX = "restic/";
export const INCOMING_PREFIX = "incoming/";
export const MANIFEST_NAME = "restorable.manifest.json";

export const SourceNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
    "a source name is 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit",
  );
export type SourceName = z.infer<typeof SourceNameSchema>;

/** A set id sorts by time: `<UTC yyyymmddThhmmssZ>-<12 hex>`. */
export const SetIdSchema = z.string().regex(/^\d{8}T\d{6}Z-[0-9a-f]{12}$/, "not a set id");
export type SetId = z.infer<typeof SetIdSchema>;

export const ComponentNameSchema = z
  .string()
  .min(1)
  .max(200)
  .refine((name) => !name.includes("/") && name !== "." && name !== "..", "a component name is a single path segment")
  .refine((name) => name !== MANIFEST_NAME, `${MANIFEST_NAME} is reserved`);

export const RepositoryNameSchema = SourceNameSchema;

export function setPrefix(source: string, setId: string): string {
  return `${SETS_PREFIX}${source}/${setId}/`;
}

export function componentKey(source: string, setId: string, name: string): string {
  return `${setPrefix(source, setId)}${name}`;
}

export function manifestKey(source: string, setId: string): string {
  return `${setPrefix(source, setId)}${MANIFEST_NAME}`;
}

/** Where a host asks for its set to be committed; see shared/ingest/commit.ts. */
export function commitRequestKey(source: string, setId: string): string {
  return `${INCOMING_PREFIX}${source}/${setId}/${MANIFEST_NAME}`;
}

export function resticRepositoryPrefix(repository: string): string {
  return `${RESTIC_PREFIX}${repository}/`;
}

export type ClassifiedKey =
  | { type: "set-manifest"; source: string; setId: string }
  | { type: "set-component"; source: string; setId: string; name: string }
  | { type: "commit-request"; source: string; setId: string }
  | { type: "restic-file"; repository: string; fileType: ResticFileType; name: string }
  | { type: "unrecognised"; reason: string };

export const RESTIC_FILE_TYPES = ["config", "keys", "snapshots", "index", "data", "locks"] as const;
export type ResticFileType = (typeof RESTIC_FILE_TYPES)[number];

/** Tells what an object key is, from the key alone. */
export function classifyKey(key: string): ClassifiedKey {
  if (key.startsWith(SETS_PREFIX)) {
    const parts = key.slice(SETS_PREFIX.length).split("/");
    if (parts.length !== 3) return { type: "unrecognised", reason: "not sets/<source>/<setId>/<name>" };
    const [source, setId, name] = parts as [string, string, string];
    if (!SourceNameSchema.safeParse(source).success) return { type: "unrecognised", reason: "bad source name" };
    if (!SetIdSchema.safeParse(setId).success) return { type: "unrecognised", reason: "bad set id" };
    if (name === MANIFEST_NAME) return { type: "set-manifest", source, setId };
    if (name === "") return { type: "unrecognised", reason: "empty component name" };
    return { type: "set-component", source, setId, name };
  }
  if (key.startsWith(INCOMING_PREFIX)) {
    const [source, setId, name, ...rest] = key.slice(INCOMING_PREFIX.length).split("/");
    if (rest.length > 0 || name !== MANIFEST_NAME || !source || !setId) {
      return { type: "unrecognised", reason: "not incoming/<source>/<setId>/restorable.manifest.json" };
    }
    if (!SourceNameSchema.safeParse(source).success) return { type: "unrecognised", reason: "bad source name" };
    if (!SetIdSchema.safeParse(setId).success) return { type: "unrecognised", reason: "bad set id" };
    return { type: "commit-request", source, setId };
  }
  if (key.startsWith(RESTIC_PREFIX)) {
    const parts = key.slice(RESTIC_PREFIX.length).split("/");
    const [repository, fileType] = parts;
    if (!repository || !RepositoryNameSchema.safeParse(repository).success) {
      return { type: "unrecognised", reason: "bad restic repository name" };
    }
    if (parts.length === 2 && fileType === "config")
      return { type: "restic-file", repository, fileType, name: "config" };
    // data/ files sit one level deeper: data/<2 hex>/<id>
    const name = parts[parts.length - 1];
    if (!name || !fileType || !(RESTIC_FILE_TYPES as readonly string[]).includes(fileType)) {
      return { type: "unrecognised", reason: "not a restic repository file" };
    }
    return { type: "restic-file", repository, fileType: fileType as ResticFileType, name };
  }
  return { type: "unrecognised", reason: "outside the sets/, incoming/ and restic/ prefixes" };
}

/** `2025-01-02T03:04:05Z` + 12 hex → `20250102T030405Z-<hex>`. */
export function makeSetId(createdAt: Date, discriminator: string): SetId {
  const stamp = createdAt
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replace(/[-:]/g, "");
  return SetIdSchema.parse(`${stamp}-${discriminator.slice(0, 12)}`);
}

/** The creation time a set id carries, as an ISO timestamp. */
export function setIdTime(setId: SetId): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(setId);
  if (!m) throw new Error(`not a set id: ${setId}`);
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`;
}

/** Stored retention plans, one JSON per applied run: retention/plans/<source, URL-encoded>/<plannedAt>.json */
export const PLANS_PREFIX = "retention/plans/";

export function planKey(source: string, plannedAt: string): string {
  return `${PLANS_PREFIX}${encodeURIComponent(source)}/${plannedAt}.json`;
}
