import { GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, type S3Client } from "@aws-sdk/client-s3";
import { isMissingObject } from "../aws/s3-errors";
import type { ResticSnapshotEntry } from "../catalog/entry";
import type { RecordOutcome } from "../catalog/store";
import { mapConcurrently } from "../concurrency";
import { describeError, InvalidInputError } from "../errors";
import type { MasterKey } from "../restic/crypto";
import { WrongPasswordError } from "../restic/errors";
import { decodeSnapshot, ResticIdSchema, resticFileId, type Snapshot } from "../restic/files";
import type { RepositoryRegistry } from "../restic/ports";
import { type ResticRepository, resticSourceName } from "../restic/repository";
import { repositoryKeyFiles } from "../restic/s3-repository";
import { parseResticTime } from "../restic/time";
import type { WriteEvent } from "./guard-history";
import { guardResticFile, versionsOfMany } from "./guard-restic";
import type { IndexerDependencies, ObjectOutcome, ResticDependencies } from "./ports";

/** restic snapshot files are a few KiB; anything this large is not one. */
const MAX_SNAPSHOT_BYTES = 16 * 1024 * 1024;

interface StoredSnapshot {
  bytes: Uint8Array;
  /** Set when the object is too large to be a snapshot; its bytes were not read. */
  oversized?: number;
  versionId: string | null;
  lastModified: Date;
}

/**
 * A snapshot file appeared (`restic backup` wrote it). Judged from what S3 holds now: if the file is
 * already gone (a forget raced ahead of this event), it is indexed from its last version and marked
 * FORGOTTEN, so that no snapshot is lost to event order.
 */
export async function indexResticSnapshot(
  key: string,
  repository: string,
  id: string,
  deps: IndexerDependencies & ResticDependencies,
): Promise<ObjectOutcome> {
  if (!ResticIdSchema.safeParse(id).success)
    return recordProblem(key, "a file in snapshots/ whose name is not a restic id", deps);
  const stored = await readCurrent(deps.s3, deps.bucket, key);
  if (!stored) return forgetResticSnapshot(key, repository, id, deps);
  const entry = await evaluateSnapshot(key, repository, id, stored, deps);
  const outcome = await record(key, entry, stored.versionId, deps);
  await recordRewriteOf(entry, deps);
  return outcome;
}

/** A new file in a repository's snapshots/, with the event that announced it. */
export interface NewSnapshotFile {
  key: string;
  repository: string;
  name: string;
  write: WriteEvent;
}

/** Snapshot files read, checked and decrypted at once; the catalog writes go in batches behind them. */
const SNAPSHOT_READS_IN_FLIGHT = 16;

/**
 * Many new snapshot files at once (a re-index, a repository's backfill): each is guarded and evaluated as
 * `indexResticSnapshot` does, SNAPSHOT_READS_IN_FLIGHT at a time, and the plain ones are recorded with one
 * batched catalog write. The rare ones (a rewrite, a file already gone, a bad name) take the one-by-one path.
 */
export async function indexResticSnapshots(
  files: readonly NewSnapshotFile[],
  deps: IndexerDependencies & ResticDependencies,
): Promise<ObjectOutcome[]> {
  type Evaluated =
    | { outcome: ObjectOutcome }
    | { entry: ResticSnapshotEntry; manifestVersion: string | null; key: string };
  // One listing finds every file's versions (the guard's question) instead of one listing a file.
  const listed = await versionsOfMany(
    deps.s3,
    deps.bucket,
    files.map((file) => file.key),
  );
  const batchDeps = { ...deps, repositories: healthyOncePerBatch(deps.repositories) };
  const evaluated = await mapConcurrently(files, SNAPSHOT_READS_IN_FLIGHT, async (file): Promise<Evaluated> => {
    const deps = batchDeps;
    const guarded = await guardResticFile({ ...file, fileType: "snapshots" }, file.write, deps, listed.get(file.key));
    if (guarded) return { outcome: guarded };
    if (!ResticIdSchema.safeParse(file.name).success)
      return { outcome: await indexResticSnapshot(file.key, file.repository, file.name, deps) };
    const stored = await readCurrent(deps.s3, deps.bucket, file.key);
    if (!stored) return { outcome: await forgetResticSnapshot(file.key, file.repository, file.name, deps) };
    const entry = await evaluateSnapshot(file.key, file.repository, file.name, stored, deps);
    if (entry.original) {
      const outcome = await record(file.key, entry, stored.versionId, deps);
      await recordRewriteOf(entry, deps);
      return { outcome };
    }
    return { entry, manifestVersion: stored.versionId, key: file.key };
  });
  const plain = evaluated.flatMap((item) => ("entry" in item ? [item] : []));
  const recorded = await deps.catalog.recordBackups(plain);
  const outcomes = new Map(plain.map((item, index) => [item, recorded[index] as RecordOutcome]));
  return evaluated.map((item) => {
    if ("outcome" in item) return item.outcome;
    return recordedOutcome(item.key, item.entry, outcomes.get(item) as RecordOutcome, deps);
  });
}

/**
 * Every snapshot that opens marks its repository healthy; in a batch of hundreds, once per repository is
 * enough (a failure to open is still recorded each time).
 */
function healthyOncePerBatch(repositories: RepositoryRegistry): RepositoryRegistry {
  const markedHealthy = new Set<string>();
  return {
    get: (name) => repositories.get(name),
    async setHealth(name, health) {
      if (health.status === "OK") {
        if (markedHealthy.has(name)) return;
        markedHealthy.add(name);
      } else markedHealthy.delete(name);
      await repositories.setHealth(name, health);
    },
  };
}

/**
 * A snapshot file was deleted (a `restic forget` by anyone): the entry becomes FORGOTTEN, history
 * kept. An entry that was never indexed is indexed first, from the file's last version.
 */
export async function forgetResticSnapshot(
  key: string,
  repository: string,
  id: string,
  deps: IndexerDependencies & ResticDependencies,
): Promise<ObjectOutcome> {
  if (!ResticIdSchema.safeParse(id).success) return { key, outcome: "ignored", reason: "not a snapshot id" };
  if (await exists(deps.s3, deps.bucket, key)) {
    return { key, outcome: "ignored", reason: "an old version was deleted; the snapshot file is still there" };
  }
  const at = deps.now();
  const existing = await deps.catalog.getBackup(id);
  // A rewritten snapshot's file goes when restic writes its replacement: that is not a forget.
  if (existing?.status === "FORGOTTEN" || existing?.status === "REWRITTEN")
    return { key, outcome: "kept-existing", id };
  if (!existing) {
    const previous = await readLastVersion(deps.s3, deps.bucket, key);
    const entry = previous
      ? await evaluateSnapshot(key, repository, id, previous, deps)
      : unopened(key, repository, id, at, at, "CORRUPT", "the snapshot file was deleted before it could be indexed");
    await deps.catalog.recordBackup(entry, previous?.versionId ?? null);
  }
  const forgotten = await deps.catalog.setStatus(
    id,
    "FORGOTTEN",
    "the snapshot file was deleted from the repository (restic forget)",
    at,
    {
      forgottenAt: at.toISOString(),
    },
  );
  deps.log.info("restic snapshot forgotten", { key, id });
  return { key, outcome: "recorded", id, status: forgotten?.status ?? "FORGOTTEN" };
}

async function evaluateSnapshot(
  key: string,
  repositoryName: string,
  id: string,
  stored: StoredSnapshot,
  deps: IndexerDependencies & ResticDependencies,
): Promise<ResticSnapshotEntry> {
  const now = deps.now();
  const notOpened = (status: "CORRUPT" | "UNREADABLE", reason: string) =>
    unopened(key, repositoryName, id, stored.lastModified, now, status, reason);

  if (stored.oversized !== undefined) {
    return notOpened("CORRUPT", `the snapshot file is ${stored.oversized} bytes, larger than any restic snapshot`);
  }
  // Integrity first, and without the password: every restic file but config is named by its hash.
  const actual = resticFileId(stored.bytes);
  if (actual !== id) {
    return notOpened("CORRUPT", `the snapshot file's bytes hash to ${actual}, not to its name (truncated or altered)`);
  }
  const repository = await deps.repositories.get(repositoryName);
  if (!repository) {
    return notOpened(
      "UNREADABLE",
      `repository ${repositoryName} is not registered: run restorable restic add-repo ${repositoryName}`,
    );
  }
  const password = await deps.passwords.get(repository);
  if (password === undefined) {
    await unhealthy(repository, `the secret ${repository.secretName} holds no password`, deps);
    return notOpened(
      "UNREADABLE",
      `no password for repository ${repositoryName} in the secret ${repository.secretName}`,
    );
  }
  let masterKey: MasterKey;
  try {
    masterKey = await openWithCurrentPassword(repository, password, deps);
  } catch (error) {
    // The repository cannot be opened (wrong password, missing or damaged key files): not this snapshot's fault.
    if (!(error instanceof InvalidInputError)) throw error;
    const reason =
      error instanceof WrongPasswordError
        ? `no key of repository ${repositoryName} opens with the password in ${repository.secretName}: fix it with restorable restic set-password ${repositoryName}`
        : `repository ${repositoryName} cannot be opened: ${describeError(error)}`;
    await unhealthy(repository, reason, deps);
    return notOpened("UNREADABLE", reason);
  }
  let snapshot: Snapshot;
  try {
    snapshot = decodeSnapshot(masterKey, stored.bytes);
  } catch (error) {
    if (error instanceof InvalidInputError) return notOpened("CORRUPT", describeError(error));
    throw error;
  }
  await deps.repositories.setHealth(repositoryName, { status: "OK", reason: null, since: now.toISOString() });

  const time = parseResticTime(snapshot.time);
  const tags = snapshot.tags ?? [];
  const hostname = snapshot.hostname ?? null;
  const original = snapshot.original && snapshot.original !== id ? snapshot.original : null;
  // A rewrite (`restic tag --add legal-hold`) stays in the source of the snapshot it replaces, whatever its tags.
  const replaced = original ? await liveRewriteOf(original, repositoryName, deps) : undefined;
  return {
    kind: "restic",
    id,
    source:
      replaced?.source ??
      resticSourceName(repositoryName, repository.groupBy, { hostname, paths: snapshot.paths, tags }),
    createdAt: time.date.toISOString(),
    status: "COMPLETE",
    statusReason: null,
    statusChangedAt: now.toISOString(),
    hostname,
    tags,
    sizeBytes: numberOrNull(snapshot.summary?.total_bytes_processed),
    indexedAt: now.toISOString(),
    lastDrill: null,
    repository: repositoryName,
    snapshotKey: key,
    resticTime: snapshot.time,
    username: snapshot.username ?? null,
    paths: snapshot.paths,
    tree: snapshot.tree,
    parent: snapshot.parent ?? null,
    programVersion: snapshot.program_version ?? null,
    summary: snapshot.summary ? { ...snapshot.summary } : null,
    forgottenAt: null,
    original,
    rewrittenAs: null,
  };
}

/**
 * The entry that stands for restic's `original` snapshot now: the original itself, or the newest rewrite
 * of it (restic keeps the first id as `original` across repeated rewrites), following `rewrittenAs`.
 */
async function liveRewriteOf(
  original: string,
  repository: string,
  deps: IndexerDependencies,
): Promise<ResticSnapshotEntry | undefined> {
  let entry = await deps.catalog.getBackup(original);
  for (let hops = 0; hops < 1000 && entry?.kind === "restic" && entry.rewrittenAs; hops++) {
    entry = await deps.catalog.getBackup(entry.rewrittenAs);
  }
  return entry?.kind === "restic" && entry.repository === repository && entry.resticTime !== null ? entry : undefined;
}

/** Once a rewrite is recorded, the entry it replaces becomes REWRITTEN (history), never FORGOTTEN. */
async function recordRewriteOf(entry: ResticSnapshotEntry, deps: IndexerDependencies): Promise<void> {
  if (entry.status !== "COMPLETE" || !entry.original) return;
  const replaced = await liveRewriteOf(entry.original, entry.repository, deps);
  if (!replaced || replaced.id === entry.id) return;
  await deps.catalog.recordRewrite(replaced.id, entry, deps.now());
  deps.log.info("restic snapshot rewritten", { previous: replaced.id, id: entry.id, source: entry.source });
}

/**
 * Opens the repository's master key. If the (cached) password fails, the secret is read afresh: an
 * operator who just fixed it expects the re-drive to work now, not when a cache expires.
 */
async function openWithCurrentPassword(
  repository: ResticRepository,
  password: string,
  deps: IndexerDependencies & ResticDependencies,
): Promise<MasterKey> {
  const open = (candidate: string) =>
    deps.keys.open(repository.name, candidate, () => repositoryKeyFiles(deps.s3, deps.bucket, repository.name));
  try {
    return await open(password);
  } catch (error) {
    if (!(error instanceof WrongPasswordError)) throw error;
    const fresh = await deps.passwords.get(repository, { fresh: true });
    if (fresh === undefined || fresh === password) throw error;
    return open(fresh);
  }
}

function unopened(
  key: string,
  repository: string,
  id: string,
  createdAt: Date,
  now: Date,
  status: "CORRUPT" | "UNREADABLE",
  reason: string,
): ResticSnapshotEntry {
  return {
    kind: "restic",
    id,
    // Its group is unknown until it decrypts; the catalog does not count it towards any source.
    source: `restic:${repository}`,
    createdAt: createdAt.toISOString(),
    status,
    statusReason: reason,
    statusChangedAt: now.toISOString(),
    hostname: null,
    tags: [],
    sizeBytes: null,
    indexedAt: now.toISOString(),
    lastDrill: null,
    repository,
    snapshotKey: key,
    resticTime: null,
    username: null,
    paths: [],
    tree: null,
    parent: null,
    programVersion: null,
    summary: null,
    forgottenAt: null,
    original: null,
    rewrittenAs: null,
  };
}

async function record(
  key: string,
  entry: ResticSnapshotEntry,
  version: string | null,
  deps: IndexerDependencies,
): Promise<ObjectOutcome> {
  return recordedOutcome(key, entry, await deps.catalog.recordBackup(entry, version), deps);
}

function recordedOutcome(
  key: string,
  entry: ResticSnapshotEntry,
  outcome: RecordOutcome,
  deps: IndexerDependencies,
): ObjectOutcome {
  if (outcome === "kept-existing") return { key, outcome, id: entry.id };
  const log = entry.status === "COMPLETE" ? deps.log.info : deps.log.warn;
  log.call(deps.log, "recorded restic snapshot", {
    key,
    id: entry.id,
    status: entry.status,
    reason: entry.statusReason,
  });
  return { key, outcome: "recorded", id: entry.id, status: entry.status };
}

async function unhealthy(repository: ResticRepository, reason: string, deps: IndexerDependencies & ResticDependencies) {
  await deps.repositories.setHealth(repository.name, { status: "UNREADABLE", reason, since: deps.now().toISOString() });
}

async function recordProblem(key: string, reason: string, deps: IndexerDependencies): Promise<ObjectOutcome> {
  await deps.problems.record(key, reason, deps.now());
  deps.log.warn("recorded an ingest problem", { key, reason });
  return { key, outcome: "problem", reason };
}

async function readCurrent(s3: S3Client, bucket: string, key: string): Promise<StoredSnapshot | undefined> {
  try {
    return await readObject(s3, bucket, key, undefined);
  } catch (error) {
    if (isMissingObject(error)) return undefined;
    throw error;
  }
}

/** The newest version that is not a deletion marker: what the file held before it was deleted. */
async function readLastVersion(s3: S3Client, bucket: string, key: string): Promise<StoredSnapshot | undefined> {
  const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key, MaxKeys: 100 }));
  const versions = (listed.Versions ?? [])
    .filter((version) => version.Key === key)
    .sort((a, b) => (b.LastModified?.getTime() ?? 0) - (a.LastModified?.getTime() ?? 0));
  const latest = versions[0];
  if (!latest?.VersionId) return undefined;
  return readObject(s3, bucket, key, latest.VersionId);
}

async function readObject(
  s3: S3Client,
  bucket: string,
  key: string,
  versionId: string | undefined,
): Promise<StoredSnapshot> {
  const object = await s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }),
  );
  if ((object.ContentLength ?? 0) > MAX_SNAPSHOT_BYTES) {
    await object.Body?.transformToWebStream().cancel();
    return {
      bytes: new Uint8Array(),
      versionId: object.VersionId ?? null,
      lastModified: object.LastModified ?? new Date(),
    };
  }
  return {
    bytes: (await object.Body?.transformToByteArray()) ?? new Uint8Array(),
    versionId: object.VersionId ?? object.ETag ?? null,
    lastModified: object.LastModified ?? new Date(),
  };
}

async function exists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if (isMissingObject(error)) return false;
    throw error;
  }
}

function numberOrNull(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}
