import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import * as z from "zod";
import { RestorableError } from "../errors";

/**
 * A drill's agent config as the bucket keeps it: AES-256-GCM under a key made for that one drill, which only
 * the instance's user data carries, bound to the drill's id. The config holds what the drill needs to read
 * (a restic repository's password, the master key when a plan's smoke command opts in) and the bucket keeps
 * every version of drills/ for as long as it keeps anything; sealed, what stays behind after the instance is
 * gone is of no use without a key that went with it.
 */
export const SealedConfigSchema = z.object({
  format: z.literal("restorable.drill-sealed/v1"),
  drillId: z.string(),
  /** base64 of the 12-byte nonce, the 16-byte tag and the ciphertext. */
  nonce: z.base64(),
  tag: z.base64(),
  ciphertext: z.base64(),
});
export type SealedConfig = z.infer<typeof SealedConfigSchema>;

/** The user-data line that carries the key (beside the config URL's line). */
export const CONFIG_KEY_LINE = "RESTORABLE_DRILL_CONFIG_KEY=";

/** The sealed config does not open with the key given: a wrong key, or bytes changed since it was sealed. */
export class SealedConfigError extends RestorableError {}

export function sealConfig(drillId: string, plaintext: string): { sealed: SealedConfig; key: string } {
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce).setAAD(Buffer.from(drillId, "utf-8"));
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf-8"), cipher.final()]);
  return {
    sealed: {
      format: "restorable.drill-sealed/v1",
      drillId,
      nonce: nonce.toString("base64"),
      tag: cipher.getAuthTag().toString("base64"),
      ciphertext: ciphertext.toString("base64"),
    },
    // base64url: it goes into a shell line in single quotes.
    key: key.toString("base64url"),
  };
}

export function unsealConfig(sealed: SealedConfig, key: string): string {
  const keyBytes = Buffer.from(key, "base64url");
  if (keyBytes.length !== 32) {
    throw new SealedConfigError("config-key-invalid", "the drill config key is not a 32-byte base64url key");
  }
  try {
    const decipher = createDecipheriv("aes-256-gcm", keyBytes, Buffer.from(sealed.nonce, "base64"))
      .setAAD(Buffer.from(sealed.drillId, "utf-8"))
      .setAuthTag(Buffer.from(sealed.tag, "base64"));
    return Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, "base64")), decipher.final()]).toString(
      "utf-8",
    );
  } catch (error) {
    throw new SealedConfigError(
      "config-unsealable",
      `the drill config for ${sealed.drillId} does not open with the key this instance was given: a wrong key, or ` +
        "the config changed since the prepare step sealed it",
      { cause: error },
    );
  }
}
