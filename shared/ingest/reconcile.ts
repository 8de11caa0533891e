import { ListObjectsV2Command, ListObjectVersionsCommand, type S3Client } from "@aws-sdk/client-s3";
import type { CatalogStore } from "../catalog/store";
import { resticRepositoryPrefix } from "../contracts/layout";
import type { Log } from "../log";
import type { SyntheticEventName } from "./enqueue";

export interface ReconcileDependencies {
  s3: S3Client;
  bucket: string;
  catalog: Pick<CatalogStore, "listByRepository">;
  /** Hands keys to the indexer as S3 notifications would (the ingest queue, in AWS). */
  enqueue(events: { key: string; eventName: SyntheticEventName; versionId?: string }[]): Promise<void>;
  log: Log;
}

export interface ReconcileReport {
  repository: string;
  snapshotFiles: number;
  /** Snapshot files the catalog did not know: handed to the indexer as created. */
  unindexed: string[];
  /** Catalog entries whose file is gone and that were not marked FORGOTTEN: handed over as removed. */
  unforgotten: string[];
  /** Files with more than one version (restic never writes one twice): handed to the indexer to check. */
  rewritten: string[];
}

/**
 * Compares a repository's snapshots/ folder with the catalog and hands over what events missed.
 * S3 notifications can be lost (a misconfigured notification, an emulator without delete-marker
 * events), and backup-on-stop hosts are killed mid-way; this makes the catalog converge anyway.
 */
export async function reconcileRepository(repository: string, deps: ReconcileDependencies): Promise<ReconcileReport> {
  const prefix = `${resticRepositoryPrefix(repository)}snapshots/`;
  const inBucket = new Set<string>();
  let continuationToken: string | undefined;
  do {
    const page = await deps.s3.send(
      new ListObjectsV2Command({ Bucket: deps.bucket, Prefix: prefix, ContinuationToken: continuationToken }),
    );
    for (const object of page.Contents ?? []) {
      const name = object.Key?.slice(prefix.length) ?? "";
      if (/^[0-9a-f]{64}$/.test(name)) inBucket.add(name);
    }
    continuationToken = page.NextContinuationToken;
  } while (continuationToken);

  const cataloged = await deps.catalog.listByRepository(repository, { limit: Number.MAX_SAFE_INTEGER });
  const known = new Set(cataloged.map((entry) => entry.id));
  const unindexed = [...inBucket].filter((id) => !known.has(id)).sort();
  const unforgotten = cataloged
    .filter((entry) => entry.status !== "FORGOTTEN" && entry.status !== "REWRITTEN" && !inBucket.has(entry.id))
    .map((entry) => entry.id)
    .sort();
  const rewritten = await filesWrittenTwice(deps.s3, deps.bucket, resticRepositoryPrefix(repository));
  const events = [
    ...unindexed.map((id) => ({ key: `${prefix}${id}`, eventName: "ObjectCreated:Put" as const })),
    ...unforgotten.map((id) => ({ key: `${prefix}${id}`, eventName: "ObjectRemoved:DeleteMarkerCreated" as const })),
    ...rewritten.map((key) => ({ key, eventName: "ObjectCreated:Put" as const })),
  ];
  if (events.length > 0) {
    await deps.enqueue(events);
    deps.log.warn("handed missed snapshot events to the indexer", { repository, unindexed, unforgotten, rewritten });
  }
  return { repository, snapshotFiles: inBucket.size, unindexed, unforgotten, rewritten };
}

/**
 * Keys of the repository (locks aside) holding more than one version: restic writes each file once, so
 * each is either an overwrite (damage the indexer puts back) or one already put back. Backstop for an
 * overwrite whose event was lost.
 */
async function filesWrittenTwice(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const counts = new Map<string, number>();
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
      if (!version.Key || version.Key.startsWith(`${prefix}locks/`)) continue;
      counts.set(version.Key, (counts.get(version.Key) ?? 0) + 1);
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    versionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (keyMarker);
  return [...counts]
    .filter(([, count]) => count > 1)
    .map(([key]) => key)
    .sort();
}
