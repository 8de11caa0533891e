import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { isMissingObject } from "../aws/s3-errors";
import type { BackupEntry, CatalogComponent, DumpSetEntry } from "../catalog/entry";
import { type ClassifiedKey, classifyKey, manifestKey } from "../contracts/layout";
import { describeError } from "../errors";
import { parseJsonWith } from "../validation";
import { commitSet } from "./commit";
import { evaluateDumpSet } from "./evaluate-dumpset";
import { guardCommittedComponent, type WriteEvent } from "./guard-history";
import { guardResticFile } from "./guard-restic";
import { forgetResticSnapshot, indexResticSnapshot, indexResticSnapshots, type NewSnapshotFile } from "./index-restic";
import type { IndexerDependencies, ObjectOutcome, QueueMessage, ResticDependencies } from "./ports";
import { decodeEventKey, isCreation, isRemoval, type S3EventRecord, S3NotificationMessageSchema } from "./s3-events";

/**
 * Indexes one queue message. Bad objects (a malformed manifest, a missing component) are recorded in
 * the catalog with a reason and the message succeeds. It throws only for what a retry can fix
 * (throttling, an unreachable service) or for a message we cannot read at all, which then reaches the
 * dead-letter queue intact; the handler reports such messages one by one, never the whole batch.
 */
export async function indexMessage(
  message: QueueMessage,
  deps: IndexerDependencies & ResticDependencies,
): Promise<ObjectOutcome[]> {
  // A body we cannot parse is not ours to judge: it fails, and so reaches the dead-letter queue intact.
  const notification = parseJsonWith(S3NotificationMessageSchema, message.body, "S3 notification message");
  if (!("Records" in notification)) return [];
  const records = notification.Records;
  const snapshots = records.flatMap((record, position) => {
    const snapshot = newResticSnapshot(record, deps.bucket);
    return snapshot ? [{ ...snapshot, position }] : [];
  });
  // S3 sends one record a message. Many new snapshot files in one message are a re-index or a
  // repository's backfill: they are read and decrypted concurrently and written to the catalog in batches.
  if (snapshots.length < 2) {
    const outcomes: ObjectOutcome[] = [];
    for (const record of records) outcomes.push(await indexRecord(record, deps));
    return outcomes;
  }
  const outcomes = new Array<ObjectOutcome>(records.length);
  const batched = new Set(snapshots.map((snapshot) => snapshot.position));
  for (const [position, record] of records.entries()) {
    if (!batched.has(position)) outcomes[position] = await indexRecord(record, deps);
  }
  const indexed = await indexResticSnapshots(snapshots, deps);
  for (const [index, snapshot] of snapshots.entries()) outcomes[snapshot.position] = indexed[index] as ObjectOutcome;
  return outcomes;
}

/** The record's new restic snapshot file, in our bucket: what the batched path takes. */
function newResticSnapshot(record: S3EventRecord, bucket: string): NewSnapshotFile | undefined {
  if (record.s3.bucket.name !== bucket || !isCreation(record)) return undefined;
  const key = decodeEventKey(record.s3.object.key);
  const classified = classifyKey(key);
  if (classified.type !== "restic-file" || classified.fileType !== "snapshots") return undefined;
  return { key, ...classified, write: writeEventOf(record) };
}

/**
 * A message the indexer could not handle: its keys are recorded as ingest problems with the reason, so
 * whoever finds it later in the dead-letter queue (`restorable ingest dlq`) learns why. Best effort: the
 * store that failed may be the very one this writes to.
 */
export async function recordIndexingFailure(
  message: QueueMessage & { attempt?: number },
  error: unknown,
  deps: Pick<IndexerDependencies, "problems" | "log" | "now">,
): Promise<void> {
  const parsed = S3NotificationMessageSchema.safeParse(safeJson(message.body));
  const keys =
    parsed.success && "Records" in parsed.data ? parsed.data.Records.map((r) => decodeEventKey(r.s3.object.key)) : [];
  const reason = `indexing failed${message.attempt ? ` (attempt ${message.attempt})` : ""}: ${describeError(error)}`;
  deps.log.error("could not index a message; it returns to the queue", { messageId: message.messageId, keys, reason });
  for (const key of keys) await deps.problems.record(key, reason, deps.now()).catch(() => undefined);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function indexRecord(
  record: S3EventRecord,
  deps: IndexerDependencies & ResticDependencies,
): Promise<ObjectOutcome> {
  const key = decodeEventKey(record.s3.object.key);
  if (record.s3.bucket.name !== deps.bucket) {
    return ignored(deps, key, `event for bucket ${record.s3.bucket.name}, not ${deps.bucket}`);
  }
  const classified = classifyKey(key);
  switch (classified.type) {
    case "set-manifest":
      return isCreation(record) ? indexDumpSet(key, classified, deps) : ignored(deps, key, record.eventName);
    case "set-component":
      return isCreation(record)
        ? indexComponentArrival(key, classified, writeEventOf(record), deps)
        : ignored(deps, key, record.eventName);
    case "commit-request":
      return isCreation(record)
        ? commitSet(classified.source, classified.setId, deps)
        : ignored(deps, key, record.eventName);
    case "restic-file": {
      if (isCreation(record)) {
        // restic never rewrites a file: a new version of an existing one is damage to put back first.
        const guarded = await guardResticFile({ key, ...classified }, writeEventOf(record), deps);
        if (guarded) return guarded;
      }
      if (classified.fileType !== "snapshots") {
        // Packs, indexes, keys and locks come and go with every restic run; the verifier checks them.
        return { key, outcome: "ignored", reason: `restic ${classified.fileType} file` };
      }
      return isCreation(record)
        ? indexResticSnapshot(key, classified.repository, classified.name, deps)
        : isRemoval(record)
          ? forgetResticSnapshot(key, classified.repository, classified.name, deps)
          : ignored(deps, key, record.eventName);
    }
    case "unrecognised":
      if (isRemoval(record)) return ignored(deps, key, `removal of an unrecognised object (${classified.reason})`);
      await deps.problems.record(key, classified.reason, deps.now());
      deps.log.warn("recorded an ingest problem", { key, reason: classified.reason });
      return { key, outcome: "problem", reason: classified.reason };
  }
}

async function indexDumpSet(
  key: string,
  set: Extract<ClassifiedKey, { type: "set-manifest" | "set-component" }>,
  deps: IndexerDependencies,
): Promise<ObjectOutcome> {
  const existing = await deps.catalog.getBackup(set.setId);
  const evaluation = await evaluateDumpSet(
    deps.s3,
    { bucket: deps.bucket, source: set.source, setId: set.setId },
    deps.now(),
    { heldKeyIds: await deps.keyring.heldKeyIds(), ...(existing ? { pins: pinsOf(existing) } : {}) },
  );
  if (!evaluation.found) return ignored(deps, key, "the set's manifest no longer exists");
  const outcome = await deps.catalog.recordBackup(evaluation.entry, evaluation.manifestVersion);
  const { id, status, statusReason } = evaluation.entry;
  if (outcome === "kept-existing") {
    deps.log.info("kept the existing catalog entry", { key, id, evaluated: status });
    return { key, outcome, id };
  }
  const log = status === "COMPLETE" ? deps.log.info : deps.log.warn;
  log.call(deps.log, "recorded dump set", { key, id, status, reason: statusReason });
  if (status === "CORRUPT") await alertCorrupt(evaluation.entry, evaluation.manifestVersion, deps);
  if (evaluation.entry.masterKeyHeld === false) await alertKeyNotHeld(evaluation.entry, deps);
  return {
    key,
    outcome: "recorded",
    id,
    status,
    ...(status === "COMPLETE" ? { bytes: evaluation.entry.sizeBytes ?? 0 } : {}),
  };
}

/** One alert per CORRUPT set and manifest version, however many events re-record it. */
async function alertCorrupt(entry: BackupEntry, manifestVersion: string | null, deps: IndexerDependencies) {
  await deps.alerts.raiseOnce(
    `set-corrupt:${entry.id}:${manifestVersion ?? "unversioned"}`,
    {
      kind: "set-corrupt",
      subject: entry.source,
      message: `backup set ${entry.id} of ${entry.source} is CORRUPT: ${entry.statusReason ?? "no reason recorded"}; restorable catalog show ${entry.id}`,
      details: {
        setId: entry.id,
        source: entry.source,
        reason: entry.statusReason,
        createdAt: entry.createdAt,
        manifestVersion,
      },
    },
    deps.now(),
  );
}

/**
 * One alert per source and master key the service does not hold, not one per nightly set: the first set
 * that names it raises it. `restorable key import` / `key register` clear the sets' flag.
 */
async function alertKeyNotHeld(entry: DumpSetEntry, deps: IndexerDependencies) {
  const keyId = entry.masterKeyId ?? "unknown";
  await deps.alerts.raiseOnce(
    `master-key-not-held:${entry.source}:${keyId}`,
    {
      kind: "master-key-not-held",
      subject: entry.source,
      message:
        `backups of ${entry.source} name master key ${keyId}, which the service does not hold: their secrets cannot ` +
        `be decrypted after a restore (first: ${entry.id}); restorable key import --key-file <file> --key-id ${keyId}`,
      details: { source: entry.source, masterKeyId: keyId, setId: entry.id, createdAt: entry.createdAt },
    },
    deps.now(),
  );
}

/**
 * A component that arrives after its manifest (events are not ordered, and a manifest may be written
 * early by hand) re-evaluates the set; before its manifest it is just an upload in progress.
 */
async function indexComponentArrival(
  key: string,
  component: Extract<ClassifiedKey, { type: "set-component" }>,
  write: WriteEvent,
  deps: IndexerDependencies,
): Promise<ObjectOutcome> {
  // A committed set's history never changes: a new version of one of its components is damage to undo.
  const existing = await deps.catalog.getBackup(component.setId);
  const committed = existing?.kind === "dumpset" && existing.status === "COMPLETE" ? existing : undefined;
  const pinned = committed?.components.find((c) => c.key === key && c.versionId !== null);
  if (committed && pinned) return guardCommittedComponent(committed, pinned, write, deps);
  try {
    await deps.s3.send(
      new HeadObjectCommand({ Bucket: deps.bucket, Key: manifestKey(component.source, component.setId) }),
    );
  } catch (error) {
    if (isMissingObject(error))
      return { key, outcome: "ignored", reason: "component of a set whose manifest has not arrived" };
    throw error;
  }
  return indexDumpSet(key, component, deps);
}

/** A COMPLETE set is judged by the versions it was committed with, never by what was written over them. */
function pinsOf(entry: BackupEntry): Map<string, CatalogComponent> {
  if (entry.kind !== "dumpset" || entry.status !== "COMPLETE") return new Map();
  return new Map(entry.components.filter((c) => c.versionId !== null).map((c) => [c.name, c]));
}

function writeEventOf(record: S3EventRecord): WriteEvent {
  return { versionId: record.s3.object.versionId, principal: record.userIdentity?.principalId };
}

function ignored(deps: IndexerDependencies, key: string, reason: string): ObjectOutcome {
  deps.log.info("ignored object event", { key, reason });
  return { key, outcome: "ignored", reason };
}
