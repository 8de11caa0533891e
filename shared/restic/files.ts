import { createHash } from "node:crypto";
import { decompress } from "fzstd";
import * as z from "zod";
import { parseWith } from "../validation";
import { decrypt, encrypt, type MasterKey } from "./crypto";
import { ResticFormatError } from "./errors";
import { isResticTime, parseResticTime } from "./time";

/** Encoding byte of a version 2 "unpacked" file whose rest is zstd-compressed JSON (doc/design.rst). */
const ZSTD_ENCODING = 2;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;

export type RepositoryVersion = 1 | 2;

/** Every restic file but `config` is named by the SHA-256 of its stored (encrypted) bytes. */
export function resticFileId(stored: Uint8Array): string {
  return createHash("sha256").update(stored).digest("hex");
}

export const ResticIdSchema = z.string().regex(/^[0-9a-f]{64}$/, "not a restic id (64 lowercase hex digits)");
export const ResticTimeSchema = z.string().refine(isResticTime, "not a restic (RFC 3339) time");
const CountSchema = z.number().int().nonnegative();

/**
 * Decrypts a snapshot, lock, index or key-less "unpacked" file and parses its JSON. Version 2
 * repositories prefix compressed JSON with the byte 2 and may store JSON raw; version 1 always stores it
 * raw, and raw JSON starts with `{` or `[`, so the plaintext tells which without knowing the version.
 */
export function decodeUnpackedFile(key: MasterKey, stored: Uint8Array): unknown {
  const plaintext = decrypt(key, stored);
  const first = plaintext[0];
  if (first === OPEN_BRACE || first === OPEN_BRACKET) return parseJsonBytes(plaintext);
  if (first === ZSTD_ENCODING) {
    let json: Uint8Array;
    try {
      json = decompress(plaintext.subarray(1));
    } catch (error) {
      throw new ResticFormatError("the restic file's zstd-compressed content does not decompress", { cause: error });
    }
    return parseJsonBytes(json);
  }
  throw new ResticFormatError(
    first === undefined
      ? "the restic file decrypts to nothing"
      : `the restic file starts with encoding byte 0x${first.toString(16).padStart(2, "0")}, which is neither JSON nor zstd (2)`,
  );
}

/**
 * Encrypts `value` as an unpacked file, returning the bytes to store under `resticFileId` of them. The JSON
 * is left uncompressed in both versions: restic reads raw JSON in version 2 too (decompressUnpacked), and
 * writing it spares a zstd encoder.
 */
export function encodeUnpackedFile(key: MasterKey, value: unknown, repositoryVersion: RepositoryVersion): Uint8Array {
  if (repositoryVersion !== 1 && repositoryVersion !== 2) {
    // A future format may encode unpacked files differently; refuse rather than write what it cannot read.
    throw new ResticFormatError(`restic repository version ${String(repositoryVersion)} is not supported`);
  }
  // restic recognises raw JSON only by its first byte being `{` or `[`.
  if (typeof value !== "object" || value === null) {
    throw new TypeError("a restic unpacked file holds a JSON object or array");
  }
  return encrypt(key, new TextEncoder().encode(JSON.stringify(value)));
}

function parseJsonBytes(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw new ResticFormatError("the restic file does not hold valid UTF-8 JSON", { cause: error });
  }
}

/** `config`: stored encrypted under the fixed name "config", and never compressed, in both versions. */
export const ConfigSchema = z.looseObject({
  version: z.union([z.literal(1), z.literal(2)]),
  id: z.string().min(1),
  /** Go encodes the polynomial as a hex string without leading zeros. */
  chunker_polynomial: z.string().regex(/^[0-9a-f]+$/, "not a hex polynomial"),
});
export type Config = z.infer<typeof ConfigSchema>;

export function decodeConfig(key: MasterKey, stored: Uint8Array): Config {
  return parseWith(ConfigSchema, parseJsonBytes(decrypt(key, stored)), "restic config");
}

/** Figures restic ≥ 0.17 records about the backup run that made the snapshot. */
export const SnapshotSummarySchema = z.looseObject({
  backup_start: ResticTimeSchema,
  backup_end: ResticTimeSchema,
  files_new: CountSchema,
  files_changed: CountSchema,
  files_unmodified: CountSchema,
  dirs_new: CountSchema,
  dirs_changed: CountSchema,
  dirs_unmodified: CountSchema,
  data_blobs: CountSchema,
  tree_blobs: CountSchema,
  data_added: CountSchema,
  data_added_packed: CountSchema,
  total_files_processed: CountSchema,
  total_bytes_processed: CountSchema,
});
export type SnapshotSummary = z.infer<typeof SnapshotSummarySchema>;

/**
 * `snapshots/<id>`, as restic.Snapshot marshals it. Loose, because newer restic versions add fields. `time`
 * stays restic's string (nanoseconds and the writer's zone): see parseResticTime to order or convert it.
 */
export const SnapshotSchema = z.looseObject({
  time: ResticTimeSchema,
  parent: ResticIdSchema.optional(),
  tree: ResticIdSchema,
  // Go writes a nil slice as null; restic reads that as no paths.
  paths: z
    .array(z.string())
    .nullable()
    .transform((paths) => paths ?? []),
  hostname: z.string().optional(),
  username: z.string().optional(),
  uid: CountSchema.optional(),
  gid: CountSchema.optional(),
  excludes: z.array(z.string()).optional(),
  tags: z.array(z.string()).optional(),
  /** Set by `restic copy` and `restic rewrite`: the id of the snapshot this one was made from. */
  original: ResticIdSchema.optional(),
  program_version: z.string().optional(),
  summary: SnapshotSummarySchema.optional(),
});
export type Snapshot = z.infer<typeof SnapshotSchema>;

export function decodeSnapshot(key: MasterKey, stored: Uint8Array): Snapshot {
  return parseWith(SnapshotSchema, decodeUnpackedFile(key, stored), "restic snapshot");
}

/** restic removes (with `unlock`) a lock not refreshed for this long (StaleLockTimeout in lock.go). */
export const RESTIC_STALE_LOCK_AFTER_MS = 30 * 60 * 1000;
/** How often restic refreshes the locks it holds: a holder writes a new lock file and removes the old one. */
export const RESTIC_LOCK_REFRESH_INTERVAL_MS = 5 * 60 * 1000;
/**
 * A holder that has not managed to refresh for this long must assume its lock is lost and stop: restic
 * leaves 1.5 refresh intervals of margin for clock drift between hosts (refreshabilityTimeout).
 */
export const RESTIC_LOCK_REFRESHABLE_FOR_MS = RESTIC_STALE_LOCK_AFTER_MS - (RESTIC_LOCK_REFRESH_INTERVAL_MS * 3) / 2;

/** `locks/<id>`, as restic.Lock marshals it (uid and gid omitted when 0). */
export const LockSchema = z.looseObject({
  time: ResticTimeSchema,
  exclusive: z.boolean(),
  hostname: z.string(),
  username: z.string(),
  pid: z.number().int(),
  uid: CountSchema.optional(),
  gid: CountSchema.optional(),
});
export type Lock = z.infer<typeof LockSchema>;

/** The stored bytes of a lock file; store them under `locks/<resticFileId(bytes)>`. */
export function encodeLock(key: MasterKey, lock: Lock, repositoryVersion: RepositoryVersion): Uint8Array {
  return encodeUnpackedFile(key, parseWith(LockSchema, lock, "restic lock"), repositoryVersion);
}

export function decodeLock(key: MasterKey, stored: Uint8Array): Lock {
  return parseWith(LockSchema, decodeUnpackedFile(key, stored), "restic lock");
}

/** The machine judging a lock, for restic's same-host rule. */
export interface LockJudge {
  hostname: string;
  isProcessAlive(pid: number): boolean;
}

/**
 * restic's Lock.Stale: a lock older than 30 minutes is stale wherever it was made; a younger one is stale
 * only when it was made on the judging machine by a process that is gone. Without `judge` (a Lambda is
 * never the host that made the lock) only the age counts. restic still refuses to proceed past a stale
 * lock; staleness only lets `restic unlock` (and us) remove it.
 */
export function isStaleLock(lock: Lock, now: Date, judge?: LockJudge): boolean {
  const ageNanoseconds = BigInt(now.getTime()) * 1_000_000n - parseResticTime(lock.time).epochNanoseconds;
  if (ageNanoseconds > BigInt(RESTIC_STALE_LOCK_AFTER_MS) * 1_000_000n) return true;
  if (judge && judge.hostname === lock.hostname) return !judge.isProcessAlive(lock.pid);
  return false;
}
