import { FUNCTIONS } from "./functions";
import { INCOMING_PREFIX, RESTIC_PREFIX, SETS_PREFIX } from "./layout";

/**
 * Which bucket events reach the ingest queue: one definition for the CDK stack and the local stack.
 * Dump sets need creations only (incoming/ holds hosts' commit requests; a set's objects are never removed
 * except by retention, which updates the catalog itself); restic repositories need removals too, because
 * `restic forget` by anyone deletes snapshot files.
 */
export const INGEST_NOTIFICATIONS = [
  { prefix: SETS_PREFIX, events: ["s3:ObjectCreated:*"] },
  { prefix: INCOMING_PREFIX, events: ["s3:ObjectCreated:*"] },
  { prefix: RESTIC_PREFIX, events: ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"] },
] as const;

/** The ingest queue and its dead-letter queue, as the CDK stack and the local stack both create them. */
export const INGEST_QUEUE = {
  /** AWS recommends six times the consumer's timeout, so retries of a slow batch do not overlap. */
  visibilityTimeoutSeconds: FUNCTIONS.indexer.timeoutSeconds * 6,
  /** A message the indexer could not handle this many times moves to the dead-letter queue. */
  maxReceiveCount: 5,
  retentionDays: 14,
} as const;
