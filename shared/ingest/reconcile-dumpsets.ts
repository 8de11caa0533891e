import { ListObjectsV2Command, ListObjectVersionsCommand, type S3Client } from "@aws-sdk/client-s3";
import type { BackupEntry } from "../catalog/entry";
import type { CatalogStore } from "../catalog/store";
import { classifyKey, INCOMING_PREFIX, SETS_PREFIX } from "../contracts/layout";
import type { Log } from "../log";
import type { SyntheticEventName } from "./enqueue";

export interface DumpSetReconcileDependencies {
  s3: S3Client;
  bucket: string;
  catalog: Pick<CatalogStore, "listBySource">;
  /** Hands keys to the indexer as S3 notifications would (the ingest queue, in AWS). */
  enqueue(events: { key: string; eventName: SyntheticEventName; versionId?: string }[]): Promise<void>;
  log: Log;
  now: () => Date;
}

export interface DumpSetReconcileReport {
  /** Committed manifests seen. */
  sets: number;
  /** Commit requests still waiting after a minute: handed to the indexer to commit. */
  uncommitted: string[];
  /** Committed manifests the catalog does not know: handed to the indexer. */
  unindexed: string[];
  /** INCOMPLETE entries, looked at again (their missing components may have arrived since). */
  incomplete: string[];
  /** Components of committed sets whose current version is neither the pinned one nor its copy. */
  replaced: string[];
}

/** A commit request younger than this is still being handled through its own event. */
const COMMIT_GRACE_MS = 60_000;

/**
 * What no event reported for dump sets: a commit request or a committed manifest whose event was lost
 * (or sits in the dead-letter queue), a set that was INCOMPLETE when its events came and has completed
 * since, and a component of a committed set replaced without an event. Everything found is handed to the
 * indexer, which judges it as it judges any event; nothing is decided here.
 */
export async function reconcileDumpSets(deps: DumpSetReconcileDependencies): Promise<DumpSetReconcileReport> {
  const uncommitted = await staleCommitRequests(deps);
  const latest = await latestVersions(deps.s3, deps.bucket, SETS_PREFIX);
  const manifestsBySource = new Map<string, { key: string; setId: string }[]>();
  for (const key of latest.keys()) {
    const classified = classifyKey(key);
    if (classified.type !== "set-manifest") continue;
    const sets = manifestsBySource.get(classified.source) ?? [];
    sets.push({ key, setId: classified.setId });
    manifestsBySource.set(classified.source, sets);
  }

  const report: DumpSetReconcileReport = { sets: 0, uncommitted, unindexed: [], incomplete: [], replaced: [] };
  const events: { key: string; eventName: SyntheticEventName; versionId?: string }[] = uncommitted.map((key) => ({
    key,
    eventName: "ObjectCreated:Put",
  }));
  for (const [source, manifests] of manifestsBySource) {
    const entries = new Map<string, BackupEntry>(
      (await deps.catalog.listBySource(source, { limit: Number.MAX_SAFE_INTEGER })).map((entry) => [entry.id, entry]),
    );
    for (const manifest of manifests) {
      report.sets++;
      const entry = entries.get(manifest.setId);
      if (!entry) {
        report.unindexed.push(manifest.key);
        events.push({ key: manifest.key, eventName: "ObjectCreated:Put" });
      } else if (entry.kind === "dumpset" && entry.status === "INCOMPLETE") {
        report.incomplete.push(manifest.key);
        events.push({ key: manifest.key, eventName: "ObjectCreated:Put" });
      } else if (entry.kind === "dumpset" && entry.status === "COMPLETE") {
        for (const component of entry.components) {
          const current = latest.get(component.key);
          if (!current || !component.versionId) continue;
          if (current === component.versionId || current === component.healedVersionId) continue;
          report.replaced.push(component.key);
          events.push({ key: component.key, eventName: "ObjectCreated:Put", versionId: current });
        }
      }
    }
  }
  if (events.length > 0) {
    await deps.enqueue(events);
    const { uncommitted: requests, unindexed, incomplete, replaced } = report;
    deps.log.warn("handed missed dump-set events to the indexer", { requests, unindexed, incomplete, replaced });
  }
  return report;
}

/** Every current key under a prefix with its current version id (delete markers are not current objects). */
async function latestVersions(s3: S3Client, bucket: string, prefix: string): Promise<Map<string, string>> {
  const latest = new Map<string, string>();
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: bucket,
        Prefix: prefix,
        KeyMarker: keyMarker,
        VersionIdMarker: versionIdMarker,
      }),
    );
    for (const version of page.Versions ?? []) {
      if (version.IsLatest && version.Key && version.VersionId) latest.set(version.Key, version.VersionId);
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    versionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (keyMarker);
  return latest;
}

async function staleCommitRequests(deps: DumpSetReconcileDependencies): Promise<string[]> {
  const stale: string[] = [];
  const before = deps.now().getTime() - COMMIT_GRACE_MS;
  let continuationToken: string | undefined;
  do {
    const page = await deps.s3.send(
      new ListObjectsV2Command({ Bucket: deps.bucket, Prefix: INCOMING_PREFIX, ContinuationToken: continuationToken }),
    );
    for (const object of page.Contents ?? []) {
      if (!object.Key || (object.LastModified?.getTime() ?? 0) > before) continue;
      if (classifyKey(object.Key).type === "commit-request") stale.push(object.Key);
    }
    continuationToken = page.NextContinuationToken;
  } while (continuationToken);
  return stale;
}
