import { createHash, randomBytes } from "node:crypto";
import * as z from "zod";
import { InvalidInputError } from "../errors";
import { parseJsonWith } from "../validation";

/**
 * The application's master key, as kept in Secrets Manager: the secret string is this JSON. `key` is
 * the key material as the application uses it (text, often base64); `keyId` is the identifier the
 * application writes into each backup's master-key-id.txt. Without a keyId, the key's fingerprint
 * serves as its id.
 */
export const MasterKeySecretSchema = z.object({
  key: z.string().min(16, "a master key of fewer than 16 characters is not a key"),
  keyId: z.string().min(1).max(255).optional(),
});
export type MasterKeySecret = z.infer<typeof MasterKeySecretSchema>;

/**
 * `mk-` and the first 16 hex digits of the SHA-256 of the key material: shows which key a share,
 * a secret version or a backup refers to without revealing anything usable about the key.
 */
export function masterKeyFingerprint(key: string): string {
  return `mk-${createHash("sha256").update(key, "utf-8").digest("hex").slice(0, 16)}`;
}

export function masterKeyId(secret: MasterKeySecret): string {
  return secret.keyId ?? masterKeyFingerprint(secret.key);
}

export function parseMasterKeySecret(text: string): MasterKeySecret {
  return parseJsonWith(MasterKeySecretSchema, text, "master key secret");
}

/** 32 random bytes, base64: what the stack and `restorable key generate` create. */
export function generateMasterKey(): MasterKeySecret {
  return { key: randomBytes(32).toString("base64") };
}

/** What the catalog knows of each key the service holds: ids and fingerprints, never key material. */
export const HeldKeySchema = z.object({
  keyId: z.string(),
  fingerprint: z.string(),
  /** The Secrets Manager version holding it; labels say whether it is current or previous. */
  versionId: z.string(),
  labels: z.array(z.string()),
  registeredAt: z.iso.datetime({ offset: true }),
});
export type HeldKey = z.infer<typeof HeldKeySchema>;

export class MasterKeyError extends InvalidInputError {}
