import { createHash } from "node:crypto";
import {
  GetObjectCommand,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  type S3Client,
} from "@aws-sdk/client-s3";
import { copyVersionOver } from "../aws/copy-version";
import { isMissingObject } from "../aws/s3-errors";
import type { ResticFileType } from "../contracts/layout";
import type { WriteEvent } from "./guard-history";
import type { IndexerDependencies, ObjectOutcome } from "./ports";

/** A repository file as the guard sees it: which repository, which kind of file, its name. */
export interface ResticFileKey {
  key: string;
  repository: string;
  fileType: ResticFileType;
  name: string;
}

export interface StoredVersion {
  versionId: string;
  size: number;
}

/** Files small enough to hash on arrival; data packs are left to the verifier's slices. */
const HASHED_ON_ARRIVAL: readonly ResticFileType[] = ["keys", "index"];

/**
 * restic never rewrites a file: every file but `config` is named by the SHA-256 of its bytes, and `config`
 * is written once by `restic init`. So a version of a repository file whose bytes do not hash to its name
 * (for config: that differs from the first version) is damage, whoever wrote it: the newest earlier version
 * that is sound (for config, the first) is copied back over the key, nothing in the catalog changes, and one
 * alert names the repository, the file and the writer. Returns undefined when there is nothing to put back.
 * Lock files come and go with every restic run and are never looked at.
 */
export async function guardResticFile(
  file: ResticFileKey,
  write: WriteEvent,
  deps: IndexerDependencies,
  /** The key's versions, newest first, when a listing of many keys at once already found them. */
  listed?: StoredVersion[],
): Promise<ObjectOutcome | undefined> {
  if (file.fileType === "locks") return undefined;
  const versions = listed ?? (await versionsOf(deps.s3, deps.bucket, file.key));
  const [current, ...earlier] = versions;
  if (!current) return undefined;
  if (earlier.length === 0) {
    // A new file: the common case, cheap unless it is small enough to check on arrival.
    if (file.fileType === "config" || !HASHED_ON_ARRIVAL.includes(file.fileType)) return undefined;
    if (await isSound(file, current, undefined, deps)) return undefined;
    await reportMisnamed(file, current, write, deps);
    return { key: file.key, outcome: "problem", reason: "the file's bytes do not hash to its name" };
  }
  const first = versions[versions.length - 1] as StoredVersion;
  const firstBytes = file.fileType === "config" ? await read(deps.s3, deps.bucket, file.key, first) : undefined;
  if (await isSound(file, current, firstBytes, deps)) return undefined;

  const source = file.fileType === "config" ? first : await findSound(file, earlier, deps);
  if (!source) {
    await report(file, current, write, "no earlier version is sound, so it could not be put back", deps);
    return { key: file.key, outcome: "problem", reason: "overwritten, and no earlier version is sound" };
  }
  await copyVersionOver(deps.s3, deps.bucket, file.key, source.versionId, source.size);
  await report(file, current, write, `version ${source.versionId} was made current again`, deps);
  deps.log.warn("put back an overwritten restic repository file", { key: file.key, replaced: current.versionId });
  return { key: file.key, outcome: "healed", id: file.name, replacedVersionId: current.versionId };
}

async function isSound(
  file: ResticFileKey,
  version: StoredVersion,
  firstBytes: Uint8Array | undefined,
  deps: IndexerDependencies,
): Promise<boolean> {
  const bytes = await read(deps.s3, deps.bucket, file.key, version);
  if (!bytes) return true;
  if (file.fileType === "config") return firstBytes !== undefined && Buffer.from(bytes).equals(Buffer.from(firstBytes));
  return createHash("sha256").update(bytes).digest("hex") === file.name;
}

async function findSound(
  file: ResticFileKey,
  earlier: StoredVersion[],
  deps: IndexerDependencies,
): Promise<StoredVersion | undefined> {
  for (const version of earlier) if (await isSound(file, version, undefined, deps)) return version;
  return undefined;
}

/** Pages a version listing of many keys may take before the keys it has not reached are listed one by one. */
const KEYS_PER_LISTING_PAGE = 50;

/**
 * The versions of many keys in one directory, as `versionsOf` finds them for one, from one listing of the key
 * range they span: a re-index or backfill hands the indexer a few hundred neighbouring keys, and one page
 * of a thousand versions costs what one key's listing does. Keys the listing did not reach within its page
 * budget (keys far apart in a large directory) are absent from the map: the caller lists them alone.
 */
export async function versionsOfMany(
  s3: S3Client,
  bucket: string,
  keys: readonly string[],
): Promise<Map<string, StoredVersion[]>> {
  const found = new Map<string, (StoredVersion & { at: number })[]>();
  const byDirectory = new Map<string, string[]>();
  for (const key of keys) {
    const directory = key.slice(0, key.lastIndexOf("/") + 1);
    byDirectory.set(directory, [...(byDirectory.get(directory) ?? []), key]);
  }
  const covered = new Set<string>();
  for (const [directory, inDirectory] of byDirectory) {
    const sorted = [...new Set(inDirectory)].sort();
    const wanted = new Set(sorted);
    const first = sorted[0] as string;
    const last = sorted[sorted.length - 1] as string;
    for (const key of sorted) found.set(key, []);
    // S3 lists the keys after the marker: a marker just short of the first key starts the listing at it.
    let keyMarker: string | undefined = first.slice(0, -1);
    let versionIdMarker: string | undefined;
    let reachedEnd = false;
    const pageBudget = Math.max(2, Math.ceil(sorted.length / KEYS_PER_LISTING_PAGE));
    for (let page = 0; page < pageBudget; page++) {
      const listed: ListObjectVersionsCommandOutput = await s3.send(
        new ListObjectVersionsCommand({
          Bucket: bucket,
          Prefix: directory,
          KeyMarker: keyMarker,
          VersionIdMarker: versionIdMarker,
        }),
      );
      for (const version of listed.Versions ?? []) {
        if (!version.Key || !wanted.has(version.Key) || !version.VersionId) continue;
        found.get(version.Key)?.push({
          versionId: version.VersionId,
          size: version.Size ?? 0,
          at: version.IsLatest ? Number.POSITIVE_INFINITY : (version.LastModified?.getTime() ?? 0),
        });
      }
      if (!listed.IsTruncated || !listed.NextKeyMarker || listed.NextKeyMarker > last) {
        reachedEnd = true;
        break;
      }
      keyMarker = listed.NextKeyMarker;
      versionIdMarker = listed.NextVersionIdMarker;
    }
    // A key at or past where the listing stopped may have versions it did not reach.
    for (const key of sorted) if (reachedEnd || (keyMarker !== undefined && key < keyMarker)) covered.add(key);
  }
  return new Map(
    [...found]
      .filter(([key]) => covered.has(key))
      .map(([key, versions]) => [
        key,
        versions.sort((a, b) => b.at - a.at).map(({ versionId, size }) => ({ versionId, size })),
      ]),
  );
}

/** Every version of exactly this key that holds bytes (not delete markers), newest first. */
async function versionsOf(s3: S3Client, bucket: string, key: string): Promise<StoredVersion[]> {
  const versions: (StoredVersion & { at: number })[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: bucket,
        Prefix: key,
        KeyMarker: keyMarker,
        VersionIdMarker: versionIdMarker,
      }),
    );
    for (const version of page.Versions ?? []) {
      if (version.Key !== key || !version.VersionId) continue;
      versions.push({
        versionId: version.VersionId,
        size: version.Size ?? 0,
        at: version.IsLatest ? Number.POSITIVE_INFINITY : (version.LastModified?.getTime() ?? 0),
      });
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    versionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (keyMarker);
  // S3 lists a key's versions newest first; the sort only guards against a listing that does not.
  return versions.sort((a, b) => b.at - a.at).map(({ versionId, size }) => ({ versionId, size }));
}

async function read(
  s3: S3Client,
  bucket: string,
  key: string,
  version: StoredVersion,
): Promise<Uint8Array | undefined> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: version.versionId }));
    return await object.Body?.transformToByteArray();
  } catch (error) {
    if (isMissingObject(error)) return undefined;
    throw error;
  }
}

async function report(
  file: ResticFileKey,
  replaced: StoredVersion,
  write: WriteEvent,
  outcome: string,
  deps: IndexerDependencies,
): Promise<void> {
  const by = write.principal ? ` by ${write.principal}` : "";
  await deps.alerts.raiseOnce(
    `history-replaced:${file.key}:${replaced.versionId}`,
    {
      kind: "history-replaced",
      subject: `restic:${file.repository}`,
      message:
        `restic repository ${file.repository}: ${file.key} was overwritten${by} (version ${replaced.versionId}); ` +
        outcome,
      details: {
        repository: file.repository,
        key: file.key,
        replacedVersionId: replaced.versionId,
        principal: write.principal ?? null,
      },
    },
    deps.now(),
  );
}

async function reportMisnamed(
  file: ResticFileKey,
  version: StoredVersion,
  write: WriteEvent,
  deps: IndexerDependencies,
): Promise<void> {
  await deps.alerts.raiseOnce(
    `restic-file-misnamed:${file.key}:${version.versionId}`,
    {
      kind: "restic-file-misnamed",
      subject: `restic:${file.repository}`,
      message: `restic repository ${file.repository}: ${file.key} was written${write.principal ? ` by ${write.principal}` : ""} with bytes that do not hash to its name`,
      details: { repository: file.repository, key: file.key, versionId: version.versionId },
    },
    deps.now(),
  );
}
