import { readFile } from "node:fs/promises";
import {
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { SecretLookup } from "../../shared/aws/secrets";
import type { DynamoKeyring } from "../../shared/catalog/dynamo/keyring";
import type { CatalogStore } from "../../shared/catalog/store";
import { InvalidInputError } from "../../shared/errors";
import { recheckMasterKeyFlags } from "../../shared/ingest/recheck-master-keys";
import {
  type HeldKey,
  type MasterKeySecret,
  MasterKeySecretSchema,
  masterKeyFingerprint,
  masterKeyId,
  parseMasterKeySecret,
} from "../../shared/keys/master-key";
import { parseWith } from "../../shared/validation";

/**
 * Records in the catalog which master keys the service holds: every version of the master key
 * secret that still has a value, by id and fingerprint. The indexer flags sets whose key is not among
 * them. Run after deploying, and after every import or rotation (import does it itself).
 */
export async function registerHeldKeys(
  secrets: SecretsManagerClient,
  keyring: Pick<DynamoKeyring, "replace">,
  secretName: string,
  now: Date,
): Promise<HeldKey[]> {
  const held: HeldKey[] = [];
  let nextToken: string | undefined;
  do {
    const page = await secrets.send(
      new ListSecretVersionIdsCommand({ SecretId: secretName, NextToken: nextToken, IncludeDeprecated: true }),
    );
    for (const version of page.Versions ?? []) {
      if (!version.VersionId) continue;
      const value = await new SecretLookup(secrets).get(secretName, { versionId: version.VersionId });
      if (!value) continue;
      const secret = parseMasterKeySecret(value.text);
      held.push({
        keyId: masterKeyId(secret),
        fingerprint: masterKeyFingerprint(secret.key),
        versionId: version.VersionId,
        labels: version.VersionStages ?? [],
        registeredAt: now.toISOString(),
      });
    }
    nextToken = page.NextToken;
  } while (nextToken);
  await keyring.replace(held);
  return held;
}

/** Reads a key file as the application stores its key: the text, without surrounding whitespace. */
export async function readKeyFile(file: string, keyId: string | undefined): Promise<MasterKeySecret> {
  let text: string;
  try {
    text = (await readFile(file, "utf-8")).trim();
  } catch (error) {
    throw new InvalidInputError("unreadable-key-file", `cannot read the key file ${file}`, { cause: error });
  }
  return parseWith(MasterKeySecretSchema, { key: text, ...(keyId ? { keyId } : {}) }, "master key");
}

/**
 * Makes `secret` the current master key; the previous one stays held as a previous version. Importing the
 * key that is already current adds no version (each version would push the older ones out of their
 * staging labels): it says "already-current" instead.
 */
export async function importMasterKey(
  secrets: SecretsManagerClient,
  secretName: string,
  secret: MasterKeySecret,
): Promise<"imported" | "already-current"> {
  const current = await new SecretLookup(secrets).get(secretName);
  if (current) {
    const held = parseMasterKeySecret(current.text);
    if (held.key === secret.key && masterKeyId(held) === masterKeyId(secret)) return "already-current";
  }
  await secrets.send(new PutSecretValueCommand({ SecretId: secretName, SecretString: JSON.stringify(secret) }));
  return "imported";
}

/** A set that was flagged for naming a master key the service did not hold, and no longer is. */
export interface ClearedFlag {
  id: string;
  masterKeyId: string | null;
}

/**
 * After the service comes to hold more master keys (import, register, combine --store, the local stack's
 * start), sets flagged for naming a key it did not hold are judged again: those naming a key now held lose
 * the flag. Returns them with the key each names, so the operator is told which keys made the difference.
 */
export async function recheckFlaggedSets(
  catalog: Pick<CatalogStore, "listSources" | "listBySource" | "setStatus" | "getBackup">,
  held: readonly HeldKey[],
  now: Date,
): Promise<ClearedFlag[]> {
  const ids = await recheckMasterKeyFlags(catalog, held, now);
  const cleared: ClearedFlag[] = [];
  for (const id of ids) {
    const entry = await catalog.getBackup(id);
    cleared.push({ id, masterKeyId: entry?.kind === "dumpset" ? entry.masterKeyId : null });
  }
  return cleared;
}
