import { existsSync } from "node:fs";
import { mkdir, open, readFile, unlink } from "node:fs/promises";
import * as path from "node:path";
import { PutSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { isMissingSecret, SecretLookup } from "../../shared/aws/secrets";
import type { Deployment } from "../../shared/contracts/deployment";
import { ConfigurationError } from "../../shared/errors";
import {
  combineShares,
  parseShareFile,
  type ReconstructedKey,
  type ShareFile,
  ShareFileError,
  type SourcedShare,
  serializeShareFile,
  shareFileName,
  splitMasterKey,
} from "../../shared/keys/escrow";
import { MasterKeyError, masterKeyFingerprint, masterKeyId, parseMasterKeySecret } from "../../shared/keys/master-key";

/** What the operator is told about a split: where the shares went and which key they hold, never the key. */
export interface SplitReport {
  secretName: string;
  versionId: string | null;
  keyId: string;
  fingerprint: string;
  splitId: string;
  shares: number;
  threshold: number;
  files: string[];
}

export interface StoredKey {
  secretName: string;
  versionId: string | null;
}

export function masterKeySecretName(deployment: Deployment): string {
  if (!deployment.masterKeySecret)
    throw new ConfigurationError(
      "no-master-key-secret",
      "this deployment names no master key secret: set RESTORABLE_MASTER_KEY_SECRET, pass --stack for a " +
        "deployed stack, or use the local stack",
    );
  return deployment.masterKeySecret;
}

export async function splitCurrentMasterKey(
  options: { shares: number; threshold: number; directory: string },
  deployment: Deployment,
  secrets: SecretsManagerClient,
  now: Date,
): Promise<SplitReport> {
  const secretName = masterKeySecretName(deployment);
  const current = await new SecretLookup(secrets).get(secretName);
  if (!current) {
    throw new ConfigurationError(
      "master-key-secret-missing",
      `the master key secret ${secretName} does not exist in this deployment, or holds no text`,
    );
  }
  const secret = parseMasterKeySecret(current.text);
  const files = await splitMasterKey(current.text, { ...options, now });
  const written = await writeShareFiles(options.directory, files);
  return {
    secretName,
    versionId: current.versionId,
    keyId: masterKeyId(secret),
    fingerprint: masterKeyFingerprint(secret.key),
    splitId: files[0]?.splitId ?? "",
    shares: options.shares,
    threshold: options.threshold,
    files: written,
  };
}

/**
 * Writes every share or none: existing files are never overwritten (an older split's shares may be the only
 * copy someone holds), and a failure half-way removes what this run wrote. Shares are readable by their
 * owner only: a share is part of the key.
 */
export async function writeShareFiles(directory: string, files: ShareFile[]): Promise<string[]> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const targets = files.map((file) => ({ file, target: path.join(directory, shareFileName(file)) }));
  const existing = targets.filter(({ target }) => existsSync(target)).map(({ target }) => target);
  if (existing.length > 0)
    throw new MasterKeyError(
      "share-files-exist",
      `${existing.join(", ")} already ${existing.length === 1 ? "exists" : "exist"}; nothing was written`,
    );
  const written: string[] = [];
  try {
    for (const { file, target } of targets) {
      await writeNewFile(target, serializeShareFile(file));
      written.push(target);
    }
  } catch (error) {
    await Promise.all(written.map((file) => unlink(file).catch(() => undefined)));
    throw error;
  }
  return written;
}

export async function readShareFiles(files: string[]): Promise<SourcedShare[]> {
  return Promise.all(
    files.map(async (source) => {
      let text: string;
      try {
        text = await readFile(source, "utf-8");
      } catch (error) {
        throw new ShareFileError("unreadable-share-file", `cannot read the share file ${source}`, { cause: error });
      }
      return { source, file: parseShareFile(text, source) };
    }),
  );
}

export async function combineShareFiles(files: string[]): Promise<ReconstructedKey> {
  return combineShares(await readShareFiles(files));
}

/** A new version of the master key secret, current from now on; earlier versions stay as Secrets Manager keeps them. */
export async function storeMasterKey(
  key: ReconstructedKey,
  deployment: Deployment,
  secrets: SecretsManagerClient,
): Promise<StoredKey> {
  const secretName = masterKeySecretName(deployment);
  const stored = await secrets
    .send(new PutSecretValueCommand({ SecretId: secretName, SecretString: key.secretString }))
    .catch((error: unknown) => {
      throw notFound(error, secretName) ?? error;
    });
  return { secretName, versionId: stored.VersionId ?? null };
}

/** The secret's JSON, as Secrets Manager holds it, in a file only its owner can read. */
export async function writeSecretFile(file: string, key: ReconstructedKey): Promise<void> {
  await writeNewFile(file, key.secretString);
}

async function writeNewFile(file: string, text: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, "wx", 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST")
      throw new MasterKeyError("file-exists", `${file} already exists; it is left as it is`, { cause: error });
    throw error;
  }
  try {
    await handle.writeFile(text, "utf-8");
  } finally {
    await handle.close();
  }
}

function notFound(error: unknown, secretName: string): ConfigurationError | undefined {
  if (!isMissingSecret(error)) return undefined;
  return new ConfigurationError(
    "master-key-secret-missing",
    `the master key secret ${secretName} does not exist in this deployment`,
    { cause: error },
  );
}
