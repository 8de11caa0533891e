import { createHash, randomBytes } from "node:crypto";
import { combine, split } from "shamir-secret-sharing";
import * as z from "zod";
import { parseWith } from "../validation";
import {
  MasterKeyError,
  type MasterKeySecret,
  MasterKeySecretSchema,
  masterKeyFingerprint,
  masterKeyId,
  parseMasterKeySecret,
} from "./master-key";

/**
 * Shamir escrow of the master key among administrators: `split` turns the master key secret into share
 * files, any `threshold` of which rebuild it. The secret string is split exactly as Secrets Manager holds
 * it, so storing the result back restores the same secret, keyId and any field this version does not know.
 * Shamir gives no integrity of its own (a changed share silently yields another secret), so every result
 * is checked against the key's fingerprint and id recorded in the files before anyone may use it.
 */

export const SHARE_FILE_FORMAT = "restorable-master-key-share";
export const SHARE_FILE_VERSION = 1;

/** The library works in GF(2^8): share points are the bytes 1..255. */
const MAX_SHARES = 255;

/** Beyond this many subsets, naming the bad share would take too long to be worth it. */
const MAX_SUBSETS_TRIED = 10_000;

const ShareFileContentShape = {
  format: z.literal(SHARE_FILE_FORMAT),
  version: z.literal(SHARE_FILE_VERSION),
  /** For whoever finds the file in a safe years later: what it is and how to use it. */
  note: z.string(),
  keyId: z.string().min(1),
  fingerprint: z.string().regex(/^mk-[0-9a-f]{16}$/, "expected mk- and 16 hex digits"),
  /** Random per split: shares of two splits of the same key never combine, and must not be mixed. */
  splitId: z.string().regex(/^[0-9a-f]{16}$/, "expected 16 hex digits"),
  index: z.number().int().min(1).max(MAX_SHARES),
  shares: z.number().int().min(2).max(MAX_SHARES),
  threshold: z.number().int().min(2).max(MAX_SHARES),
  createdAt: z.iso.datetime({ offset: true }),
  /** The share as shamir-secret-sharing makes it: one byte per secret byte, then the share's point. */
  share: z.base64(),
};

/** The fields the checksum covers, in the order it covers them. */
const CHECKSUMMED_FIELDS = Object.keys(ShareFileContentShape);

export const ShareFileSchema = z
  .object({
    ...ShareFileContentShape,
    /** SHA-256 of the other fields, so a file damaged in storage is found on its own, before combining. */
    checksum: z.string().regex(/^sha256:[0-9a-f]{64}$/, "expected sha256: and 64 hex digits"),
  })
  .refine((file) => file.threshold <= file.shares, { message: "threshold exceeds shares", path: ["threshold"] })
  .refine((file) => file.index <= file.shares, { message: "index exceeds shares", path: ["index"] });
export type ShareFile = z.infer<typeof ShareFileSchema>;
export type ShareFileContent = Omit<ShareFile, "checksum">;

/** A share file and where it came from, so errors name the file an administrator holds. */
export interface SourcedShare {
  source: string;
  file: ShareFile;
}

export interface SplitOptions {
  shares: number;
  threshold: number;
  now: Date;
}

export interface ReconstructedKey {
  /** Exactly the secret string that was split: what goes back into Secrets Manager. */
  secretString: string;
  secret: MasterKeySecret;
  keyId: string;
  fingerprint: string;
  threshold: number;
  /** The share files the key was rebuilt from. */
  sources: string[];
}

/** A share file that cannot be used on its own: unreadable, not a share file, or damaged. */
export class ShareFileError extends MasterKeyError {}

/** Share files that cannot be combined: too few, mixed from different keys or splits, or repeated. */
export class ShareSetError extends MasterKeyError {}

/** The shares combined into something other than the recorded key: at least one share was altered. */
export class ShareVerificationError extends MasterKeyError {
  constructor(
    message: string,
    /** The share files found to disagree with the others; empty when they cannot be told apart. */
    readonly suspects: string[],
  ) {
    super("master-key-shares-do-not-verify", message);
  }
}

/** A key without a keyId goes by its fingerprint: naming it twice would read like two things. */
export function describeMasterKey(keyId: string, fingerprint: string): string {
  return keyId === fingerprint ? keyId : `${keyId} (fingerprint ${fingerprint})`;
}

export function shareFileChecksum(content: ShareFileContent): string {
  // The replacer fixes the field order, so the checksum does not depend on how the JSON was laid out.
  const canonical = JSON.stringify(content, CHECKSUMMED_FIELDS);
  return `sha256:${createHash("sha256").update(canonical, "utf-8").digest("hex")}`;
}

export function withChecksum(content: ShareFileContent): ShareFile {
  return { ...content, checksum: shareFileChecksum(content) };
}

export function serializeShareFile(file: ShareFile): string {
  return `${JSON.stringify(file, [...CHECKSUMMED_FIELDS, "checksum"], 2)}\n`;
}

/** `mk-…-share-2-of-5.json`: names say which key and which share without opening the file. */
export function shareFileName(file: Pick<ShareFile, "fingerprint" | "index" | "shares">): string {
  return `${file.fingerprint}-share-${file.index}-of-${file.shares}.json`;
}

/** Splits the master key secret string as Secrets Manager holds it into self-describing share files. */
export async function splitMasterKey(secretString: string, options: SplitOptions): Promise<ShareFile[]> {
  const { shares, threshold } = options;
  if (!Number.isInteger(shares) || shares < 2 || shares > MAX_SHARES)
    throw new ShareSetError("invalid-share-count", `the number of shares must be between 2 and ${MAX_SHARES}`);
  if (!Number.isInteger(threshold) || threshold < 2 || threshold > shares)
    throw new ShareSetError(
      "invalid-threshold",
      `the threshold must be between 2 and the number of shares (${shares}): one share alone must never be the key`,
    );
  const secret = parseMasterKeySecret(secretString);
  const keyId = masterKeyId(secret);
  const fingerprint = masterKeyFingerprint(secret.key);
  const splitId = randomBytes(8).toString("hex");
  const createdAt = options.now.toISOString();
  const points = await split(new TextEncoder().encode(secretString), shares, threshold);
  return points.map((point, position) => {
    const index = position + 1;
    return withChecksum({
      format: SHARE_FILE_FORMAT,
      version: SHARE_FILE_VERSION,
      note:
        `Share ${index} of ${shares} of the master key ${describeMasterKey(keyId, fingerprint)}. Any ${threshold} of the shares ` +
        "rebuild the key with: restorable key combine <share files>. Keep it apart from the other shares and from the backups.",
      keyId,
      fingerprint,
      splitId,
      index,
      shares,
      threshold,
      createdAt,
      share: Buffer.from(point).toString("base64"),
    });
  });
}

/** Reads one share file's text; anything but an intact share file of a format this version knows is refused. */
export function parseShareFile(text: string, source: string): ShareFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ShareFileError("share-file-not-json", `${source} is not a share file: it is not valid JSON`, {
      cause: error,
    });
  }
  const header = z.object({ format: z.unknown(), version: z.unknown() }).safeParse(value);
  if (!header.success || header.data.format !== SHARE_FILE_FORMAT)
    throw new ShareFileError("not-a-share-file", `${source} is not a restorable master key share file`);
  if (header.data.version !== SHARE_FILE_VERSION)
    throw new ShareFileError(
      "unknown-share-file-version",
      `${source} is a share file of format version ${String(header.data.version)}; this restorable reads version ${SHARE_FILE_VERSION}`,
    );
  let file: ShareFile;
  try {
    file = parseWith(ShareFileSchema, value, "share file");
  } catch (error) {
    throw new ShareFileError("invalid-share-file", `${source} is damaged: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const { checksum, ...content } = file;
  if (shareFileChecksum(content) !== checksum)
    throw new ShareFileError(
      "share-file-checksum-mismatch",
      `${source} is damaged: its checksum does not match its content (share ${file.index} of key ${file.keyId})`,
    );
  return file;
}

/**
 * Rebuilds the master key from share files and verifies it against the fingerprint and id they record.
 * Nothing is returned unless it verifies. When more shares than needed are given and the key does not
 * verify, every subset of `threshold` shares is tried, to name the shares that spoil each subset they are in.
 */
export async function combineShares(given: SourcedShare[]): Promise<ReconstructedKey> {
  const first = given[0];
  if (!first) throw new ShareSetError("no-shares", "no share files given");
  checkSharesBelongTogether(given);
  const { keyId, fingerprint, threshold } = first.file;
  if (given.length < threshold)
    throw new ShareSetError(
      "too-few-shares",
      `${threshold} shares are needed to rebuild the master key ${keyId}, ${given.length} given`,
    );

  const points = given.map(({ file }) => new Uint8Array(Buffer.from(file.share, "base64")));
  checkPointsCombine(given, points);
  const expected = { keyId, fingerprint };
  const all = verifyReconstruction(await combine(points), expected);
  if (all.ok) return { ...all, keyId, fingerprint, threshold, sources: given.map(({ source }) => source) };

  if (given.length === threshold)
    throw new ShareVerificationError(
      `the shares do not rebuild the master key ${keyId}: ${all.reason}. At least one of them has been altered; ` +
        `give more than ${threshold} shares to find out which`,
      [],
    );

  const subsets = [...subsetsOf(range(given.length), threshold, MAX_SUBSETS_TRIED + 1)];
  if (subsets.length > MAX_SUBSETS_TRIED)
    throw new ShareVerificationError(
      `the shares do not rebuild the master key ${keyId}: ${all.reason}. At least one of them has been altered`,
      [],
    );
  const trustworthy = new Set<number>();
  for (const subset of subsets) {
    const attempt = verifyReconstruction(await combine(subset.map((i) => points[i] as Uint8Array)), expected);
    if (attempt.ok) for (const i of subset) trustworthy.add(i);
  }
  if (trustworthy.size === 0)
    throw new ShareVerificationError(
      `no ${threshold} of the ${given.length} shares rebuild the master key ${keyId} (${all.reason}): ` +
        `more than ${given.length - threshold} of them have been altered`,
      [],
    );
  const suspects = given.filter((_, i) => !trustworthy.has(i));
  const one = suspects.length === 1;
  throw new ShareVerificationError(
    `${describeShares(suspects)} ${one ? "disagrees" : "disagree"} with the others: the other shares rebuild the ` +
      `master key ${keyId} (fingerprint ok), and ${one ? "it does" : "they do"} not. Combine again without ` +
      `${one ? "it" : "them"}, and ask ${one ? "its holder" : "their holders"} what happened to ${one ? "it" : "them"}`,
    suspects.map(({ source }) => source),
  );
}

function describeShares(shares: SourcedShare[]): string {
  const names = shares.map(({ source, file }) => `${file.index} (${source})`);
  const last = names.pop();
  return names.length === 0 ? `share ${last}` : `shares ${names.join(", ")} and ${last}`;
}

/** Same key, same split, same threshold, each share once: otherwise combining would be meaningless. */
function checkSharesBelongTogether(given: SourcedShare[]): void {
  const groups = new Map<string, string[]>();
  for (const { source, file } of given) {
    const description = `of the master key ${file.keyId} (${file.fingerprint}), split ${file.splitId} into ${file.shares} with threshold ${file.threshold}`;
    groups.set(description, [...(groups.get(description) ?? []), source]);
  }
  if (groups.size > 1) {
    const keys = new Set(given.map(({ file }) => `${file.keyId} ${file.fingerprint}`));
    const what = keys.size > 1 ? "they are shares of different keys" : "they come from different splits of the key";
    const listing = [...groups].map(([description, sources]) => `${sources.join(", ")} ${description}`).join("; ");
    throw new ShareSetError(
      "shares-do-not-belong-together",
      `the share files do not belong together, ${what}: ${listing}`,
    );
  }
  const byIndex = new Map<number, string[]>();
  for (const { source, file } of given) byIndex.set(file.index, [...(byIndex.get(file.index) ?? []), source]);
  for (const [index, sources] of byIndex) {
    if (sources.length > 1)
      throw new ShareSetError(
        "share-given-twice",
        `share ${index} is given ${sources.length} times (${sources.join(", ")}): each share counts once`,
      );
  }
}

/** What the library would reject with a bare message, said with the files' names. */
function checkPointsCombine(given: SourcedShare[], points: Uint8Array[]): void {
  const lengths = new Map<number, string[]>();
  points.forEach((point, i) => {
    lengths.set(point.length, [...(lengths.get(point.length) ?? []), given[i]?.source ?? ""]);
  });
  if (lengths.size > 1) {
    const listing = [...lengths].map(([length, sources]) => `${sources.join(", ")}: ${length} bytes`).join("; ");
    throw new ShareVerificationError(
      `the shares differ in length, so at least one has been altered (${listing})`,
      given.length > 2 ? minority(lengths) : [],
    );
  }
  const byPoint = new Map<number, string[]>();
  points.forEach((point, i) => {
    const x = point[point.length - 1] ?? 0;
    byPoint.set(x, [...(byPoint.get(x) ?? []), given[i]?.source ?? ""]);
  });
  for (const [x, sources] of byPoint) {
    if (x === 0 || sources.length > 1)
      throw new ShareVerificationError(
        `${sources.join(" and ")} ${sources.length > 1 ? "hold the same share point" : "holds an impossible share point"}, ` +
          "so at least one has been altered",
        sources,
      );
  }
}

function minority(groups: Map<number, string[]>): string[] {
  const largest = Math.max(...[...groups.values()].map((sources) => sources.length));
  const majorities = [...groups.values()].filter((sources) => sources.length === largest);
  if (majorities.length > 1) return [];
  return [...groups.values()].filter((sources) => sources.length !== largest).flat();
}

type Verification =
  | { ok: true; secretString: string; secret: MasterKeySecret }
  | {
      ok: false;
      reason: string;
    };

/**
 * Whether rebuilt bytes are the recorded key. The fingerprint covers the key material, the id covers a
 * keyId, and the JSON around them must parse as a master key secret.
 */
function verifyReconstruction(bytes: Uint8Array, expected: { keyId: string; fingerprint: string }): Verification {
  let secretString: string;
  try {
    secretString = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, reason: "the result is not a master key secret" };
  }
  let value: unknown;
  try {
    value = JSON.parse(secretString);
  } catch {
    return { ok: false, reason: "the result is not a master key secret" };
  }
  const parsed = MasterKeySecretSchema.safeParse(value);
  if (!parsed.success) return { ok: false, reason: "the result is not a master key secret" };
  const fingerprint = masterKeyFingerprint(parsed.data.key);
  if (fingerprint !== expected.fingerprint)
    return { ok: false, reason: `its fingerprint is ${fingerprint}, not ${expected.fingerprint}` };
  const keyId = masterKeyId(parsed.data);
  if (keyId !== expected.keyId) return { ok: false, reason: `its key id is ${keyId}, not ${expected.keyId}` };
  return { ok: true, secretString, secret: parsed.data };
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

/** The `size`-element subsets of `items`, in lexicographic order, at most `limit` of them. */
function* subsetsOf(items: number[], size: number, limit: number): Generator<number[]> {
  let produced = 0;
  function* from(start: number, chosen: number[]): Generator<number[]> {
    if (produced >= limit) return;
    if (chosen.length === size) {
      produced++;
      yield chosen;
      return;
    }
    for (let i = start; i <= items.length - (size - chosen.length); i++) {
      yield* from(i + 1, [...chosen, items[i] as number]);
      if (produced >= limit) return;
    }
  }
  yield* from(0, []);
}
