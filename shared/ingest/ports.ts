import type { S3Client } from "@aws-sdk/client-s3";
import type { AlertStore } from "../catalog/alerts";
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
  /** Replaced history (a committed component, a restic file) is put back and reported here, once per incident. */
  alerts: Pick<AlertStore, "raiseOnce">;
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
  | { key: string; outcome: "recorded"; id: string; status: string; bytes?: number }
  | { key: string; outcome: "kept-existing"; id: string }
  | { key: string; outcome: "ignored"; reason: string }
  | { key: string; outcome: "problem"; reason: string }
  /** A committed object was replaced; the good version was made current again and an alert raised. */
  | { key: string; outcome: "healed"; id: string; replacedVersionId: string | null };

export interface ResticDependencies {
  repositories: RepositoryRegistry;
  passwords: PasswordSource;
  keys: MasterKeyCache;
}
