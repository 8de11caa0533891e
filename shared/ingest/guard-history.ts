import { HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { copyVersionOver } from "../aws/copy-version";
import { isMissingObject } from "../aws/s3-errors";
import type { CatalogComponent, DumpSetEntry } from "../catalog/entry";
import { releaseVersion } from "../dumpset/release";
import { fullObjectChecksum, sameChecksum } from "../dumpset/s3-checksum";
import type { IndexerDependencies, ObjectOutcome } from "./ports";

/** Who wrote an object and which version, as the event (or the reconciler) tells. */
export interface WriteEvent {
  versionId: string | undefined;
  principal: string | undefined;
}

interface CurrentVersion {
  versionId: string | undefined;
  size: number;
  checksum: string | undefined;
}

/**
 * A new version appeared on a component of a committed set. Committed history never changes, so it is
 * damage unless it holds the committed bytes (our own copy putting them back, or an identical write):
 * the committed (pinned) version is copied over the key, becoming current again, the set keeps its status,
 * the damaging version is released to expire with the grace period, and one alert names the key.
 */
export async function guardCommittedComponent(
  entry: DumpSetEntry,
  component: CatalogComponent,
  event: WriteEvent,
  deps: IndexerDependencies,
): Promise<ObjectOutcome> {
  const { key } = component;
  const pinned = component.versionId;
  if (!pinned) return { key, outcome: "ignored", reason: "the set pins no version of this component" };
  const good = new Set([pinned, component.healedVersionId].filter((id): id is string => id !== null));
  const current = await headCurrent(deps.s3, deps.bucket, key);
  if (!current || (current.versionId && good.has(current.versionId))) {
    if (event.versionId && !good.has(event.versionId)) await reportReplaced(entry, component, event, false, deps);
    return { key, outcome: "kept-existing", id: entry.id };
  }
  if (holdsCommittedBytes(component, current)) {
    // Our own copy (its record lost) or the same bytes written again: nothing was damaged.
    if (current.versionId) await deps.catalog.recordHealedComponent(entry.id, component.name, current.versionId);
    return { key, outcome: "kept-existing", id: entry.id };
  }
  const copy = await copyVersionOver(deps.s3, deps.bucket, key, pinned, component.size);
  if (copy.versionId) await deps.catalog.recordHealedComponent(entry.id, component.name, copy.versionId);
  if (current.versionId) await releaseVersion(deps.s3, deps.bucket, key, current.versionId);
  await reportReplaced(entry, component, { ...event, versionId: current.versionId ?? event.versionId }, true, deps);
  deps.log.warn("put back a replaced component of a committed set", { key, id: entry.id, replaced: current.versionId });
  return { key, outcome: "healed", id: entry.id, replacedVersionId: current.versionId ?? null };
}

function holdsCommittedBytes(component: CatalogComponent, current: CurrentVersion): boolean {
  return current.size === component.size && sameChecksum(fullObjectChecksum(component.sha256), current.checksum);
}

async function headCurrent(s3: S3Client, bucket: string, key: string): Promise<CurrentVersion | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: "ENABLED" }));
    return { versionId: head.VersionId, size: head.ContentLength ?? 0, checksum: head.ChecksumSHA256 };
  } catch (error) {
    if (isMissingObject(error)) return undefined;
    throw error;
  }
}

async function reportReplaced(
  entry: DumpSetEntry,
  component: CatalogComponent,
  event: WriteEvent,
  putBack: boolean,
  deps: IndexerDependencies,
): Promise<void> {
  const by = event.principal ? ` by ${event.principal}` : "";
  await deps.alerts.raiseOnce(
    `history-replaced:${component.key}:${event.versionId ?? "unknown"}`,
    {
      kind: "history-replaced",
      subject: entry.source,
      message:
        `${component.key} of committed set ${entry.id} was overwritten${by} (version ${event.versionId ?? "unknown"}); ` +
        (putBack ? "the committed version was made current again" : "the committed version is current"),
      details: {
        key: component.key,
        setId: entry.id,
        source: entry.source,
        committedVersionId: component.versionId,
        replacedVersionId: event.versionId ?? null,
        principal: event.principal ?? null,
      },
    },
    deps.now(),
  );
}
