import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import type { CatalogStore } from "../catalog/store";
import { resticRepositoryPrefix } from "../contracts/layout";
import type { Log } from "../log";
import type { SyntheticEventName } from "./enqueue";

export interface ReconcileDependencies {
  s3: S3Client;
  bucket: string;
  catalog: Pick<CatalogStore, "listByRepository">;
  /** Hands keys to the indexer as S3 notifications would (the ingest queue, in AWS). */
  enqueue(events: { key: string; eventName: SyntheticEventName }[]): Promise<void>;
  log: Log;
}

export interface ReconcileReport {
  repository: string;
  snapshotFiles: number;
  /** Snapshot files the catalog did not know: handed to the indexer as created. */
  unindexed: string[];
  /** Catalog entries whose file is gone and that were not marked FORGOTTEN: handed over as removed. */
  unforgotten: string[];
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
  const events = [
    ...unindexed.map((id) => ({ key: `${prefix}${id}`, eventName: "ObjectCreated:Put" as const })),
    ...unforgotten.map((id) => ({ key: `${prefix}${id}`, eventName: "ObjectRemoved:DeleteMarkerCreated" as const })),
  ];
  if (events.length > 0) {
    await deps.enqueue(events);
    deps.log.warn("handed missed snapshot events to the indexer", { repository, unindexed, unforgotten });
  }
  return { repository, snapshotFiles: inBucket.size, unindexed, unforgotten };
}
