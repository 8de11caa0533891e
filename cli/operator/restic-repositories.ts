import { readFile } from "node:fs/promises";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoRepositoryStore } from "../../shared/catalog/dynamo/repository-store";
import type { Deployment } from "../../shared/contracts/deployment";
import { RepositoryNameSchema, resticRepositoryPrefix } from "../../shared/contracts/layout";
import { ConfigurationError, InvalidInputError } from "../../shared/errors";
import { enqueueNotifications, RECORDS_PER_REINDEX_MESSAGE } from "../../shared/ingest/enqueue";
import { WrongPasswordError } from "../../shared/restic/errors";
import { openRepository } from "../../shared/restic/keys";
import {
  DEFAULT_GROUP_BY,
  DEFAULT_VERIFY_SLICES,
  type GroupByField,
  type ResticRepository,
  resticRepositoryUrl,
  resticSecretName,
} from "../../shared/restic/repository";
import { repositoryKeyFiles } from "../../shared/restic/s3-repository";
import { parseWith } from "../../shared/validation";

export interface OperatorClients {
  s3: S3Client;
  secrets: SecretsManagerClient;
  repositories: DynamoRepositoryStore;
  sqs: SQSClient;
}

/** Reads a password file the way restic's --password-file does, so the same file works for both. */
export async function readPasswordFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, "utf-8");
  } catch (error) {
    throw new InvalidInputError("unreadable-password-file", `cannot read the password file ${file}`, { cause: error });
  }
  const password = text.replace(/^\uFEFF/, "").trim();
  if (password === "") throw new InvalidInputError("empty-password", `the password file ${file} is empty`);
  return password;
}

/** The password does not open the repository, so storing it would only turn its snapshots UNREADABLE. */
export class PasswordDoesNotOpenRepositoryError extends InvalidInputError {
  constructor(repository: string, options: { cause: unknown }) {
    super(
      "password-does-not-open-repository",
      `the password in that file opens no key of restic repository ${repository}; nothing was stored ` +
        "(check the file, or pass --no-check to store it anyway)",
      options,
    );
  }
}

/**
 * Opens the repository's key files with the password before it is stored, so a mistyped password is
 * refused now instead of showing up later as UNREADABLE snapshots. A repository restic has not
 * initialised yet has no key to check against: that is not an error, it is the usual order (add-repo,
 * then restic init).
 */
export async function checkPasswordOpensRepository(
  name: string,
  password: string,
  bucket: string,
  s3: S3Client,
): Promise<"opens" | "not-initialised"> {
  try {
    await openRepository(repositoryKeyFiles(s3, bucket, name), password);
    return "opens";
  } catch (error) {
    if (error instanceof InvalidInputError && error.code === "restic-no-keys") return "not-initialised";
    if (error instanceof WrongPasswordError) throw new PasswordDoesNotOpenRepositoryError(name, { cause: error });
    throw error;
  }
}

export interface AddRepositoryOptions {
  name: string;
  password: string;
  groupBy?: GroupByField[];
  verifySlices?: number;
  /** false stores the password without opening the repository's keys with it first. */
  check?: boolean;
}

export interface AddedRepository {
  repository: ResticRepository;
  url: string;
  created: boolean;
  /** What the password check found: the repository opens with it, restic has not initialised it yet, or not checked. */
  passwordCheck: "opens" | "not-initialised" | "skipped";
  /**
   * Snapshot files already in the repository, handed to the indexer (backfill): their events came before
   * the repository was registered, so they were recorded UNREADABLE or not at all. null: none could be
   * queued (no ingest queue known, or restic has not initialised the repository yet).
   */
  backfilled: number | null;
}

/**
 * Registers a restic repository under the bucket's restic/ prefix: the password goes into a secret of
 * its own, the settings into the catalog. Returns the `-r` URL to hand to restic.
 */
export async function addRepository(
  options: AddRepositoryOptions,
  deployment: Deployment,
  clients: OperatorClients,
  now: Date,
): Promise<AddedRepository> {
  const name = parseWith(RepositoryNameSchema, options.name, "repository name");
  const passwordCheck =
    options.check === false
      ? "skipped"
      : await checkPasswordOpensRepository(name, options.password, deployment.bucket, clients.s3);
  const secretName = resticSecretName(deployment.bucket, name);
  let created = true;
  try {
    await clients.secrets.send(
      new CreateSecretCommand({
        Name: secretName,
        SecretString: options.password,
        Description: `Password of the restic repository ${name} in s3://${deployment.bucket}/${resticRepositoryPrefix(name)}`,
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceExistsException)) throw error;
    created = false;
    await clients.secrets.send(new PutSecretValueCommand({ SecretId: secretName, SecretString: options.password }));
  }
  const repository: ResticRepository = {
    name,
    secretName,
    groupBy: options.groupBy ?? DEFAULT_GROUP_BY,
    verifySlices: options.verifySlices ?? DEFAULT_VERIFY_SLICES,
    createdAt: now.toISOString(),
    health: null,
    verification: null,
  };
  await clients.repositories.register(repository);
  const backfilled =
    passwordCheck !== "not-initialised" && deployment.queueUrl
      ? await reindexRepository(name, deployment, clients)
      : null;
  return {
    repository: (await clients.repositories.get(name)) ?? repository,
    url: repositoryUrl(name, deployment),
    created,
    passwordCheck,
    backfilled,
  };
}

export async function setRepositoryPassword(
  name: string,
  password: string,
  deployment: Deployment,
  clients: OperatorClients,
  options: { check?: boolean } = {},
): Promise<ResticRepository> {
  const repository = await requireRepository(name, clients);
  if (options.check !== false) await checkPasswordOpensRepository(name, password, deployment.bucket, clients.s3);
  await clients.secrets.send(new PutSecretValueCommand({ SecretId: repository.secretName, SecretString: password }));
  return repository;
}

export function repositoryUrl(name: string, deployment: Deployment): string {
  return resticRepositoryUrl({
    bucket: deployment.bucket,
    repository: name,
    region: deployment.region,
    ...(deployment.endpoint ? { endpoint: deployment.endpoint } : {}),
  });
}

export async function requireRepository(
  name: string,
  clients: Pick<OperatorClients, "repositories">,
): Promise<ResticRepository> {
  const repository = await clients.repositories.get(name);
  if (!repository) {
    throw new ConfigurationError(
      "unknown-repository",
      `no restic repository named ${name}: add it with restorable restic add-repo ${name}`,
    );
  }
  return repository;
}

/**
 * Hands every snapshot file of the repository to the indexer again, through the ingest queue, as if
 * restic had just written it: what re-drives snapshots recorded UNREADABLE once the password is fixed.
 * Indexing is idempotent, so snapshots already indexed are left as they are.
 */
export async function reindexRepository(
  name: string,
  deployment: Deployment,
  clients: OperatorClients,
): Promise<number> {
  await requireRepository(name, clients);
  if (!deployment.queueUrl) {
    throw new ConfigurationError(
      "no-queue",
      "re-indexing needs the ingest queue's URL: pass --stack, set RESTORABLE_QUEUE_URL, or use the local stack",
    );
  }
  const prefix = `${resticRepositoryPrefix(name)}snapshots/`;
  let sent = 0;
  let continuationToken: string | undefined;
  do {
    const page = await clients.s3.send(
      new ListObjectsV2Command({ Bucket: deployment.bucket, Prefix: prefix, ContinuationToken: continuationToken }),
    );
    const keys = (page.Contents ?? []).map((object) => object.Key as string);
    await enqueueNotifications(
      clients.sqs,
      deployment.queueUrl,
      deployment.bucket,
      keys.map((key) => ({ key, eventName: "ObjectCreated:Put" as const })),
      "restorable:reindex",
      { recordsPerMessage: RECORDS_PER_REINDEX_MESSAGE },
    );
    sent += keys.length;
    continuationToken = page.NextContinuationToken;
  } while (continuationToken);
  return sent;
}
