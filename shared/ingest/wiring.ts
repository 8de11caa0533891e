import { INCOMING_PREFIX, RESTIC_PREFIX, SETS_PREFIX } from "../layout";

/**
 * Which bucket events reach the ingest queue: one definition for the CDK stack and the local stack.
 * Dump sets need creations only (incoming/ holds hosts' commit requests) (a set's objects are never removed except by retention, which updates
 * the catalog itself); restic repositories need removals too, because `restic forget` by anyone
 * deletes snapshot files.
 */
export const INGEST_NOTIFICATIONS = [
  { prefix: SETS_PREFIX, events: ["s3:ObjectCreated:*"] },
  { prefix: INCOMING_PREFIX, events: ["s3:ObjectCreated:*"] },
  { prefix: RESTIC_PREFIX, events: ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"] },
] as const;

/** A message the indexer could not handle this many times moves to the dead-letter queue. */
export const INGEST_MAX_RECEIVE_COUNT = 5;

/** Long enough for a batch of 10 sets with many components each. */
export const INDEXER_TIMEOUT_SECONDS = 120;

export const INGEST_BATCH_SIZE = 10;
