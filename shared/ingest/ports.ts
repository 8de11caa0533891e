import type { S3Client } from "@aws-sdk/client-s3";
import type { CatalogStore } from "../catalog/store";
import type { Log } from "../log";
import type { MasterKeyCache } from "../restic/key-cache";
import type { PasswordSource, RepositoryRegistry } from "../restic/ports";

/** What the indexer needs, as plain interfaces: the Lambda passes DynamoDB stores, tests anything else. */
export interface IndexerDependencies {
  s3: S3Client;
  catalog: CatalogStore;
  problems: ProblemRecorder;
  keyring: KeyringReader;
  bucket: string;
  log: Log;
  now: () => Date;
}

export interface KeyringReader {
  /** Ids and fingerprints of the master keys the service holds; undefined when not registered yet. */
  heldKeyIds(): Promise<Set<string> | undefined>;
}

export interface ProblemRecorder {
  record(key: string, reason: string, at: Date): Promise<void>;
}

/** The parts of an SQS record the indexer reads. */
export interface QueueMessage {
  messageId: string;
  body: string;
}

export type ObjectOutcome =
  | { key: string; outcome: "recorded"; id: string; status: string }
  | { key: string; outcome: "kept-existing"; id: string }
  | { key: string; outcome: "ignored"; reason: string }
  | { key: string; outcome: "problem"; reason: string };

export interface ResticDependencies {
  repositories: RepositoryRegistry;
  passwords: PasswordSource;
  keys: MasterKeyCache;
}
