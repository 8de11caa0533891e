import { createHash } from "node:crypto";
import type { MasterKey } from "./crypto";
import { openRepository } from "./keys";

/**
 * Opening a repository costs a scrypt derivation per key file (tens of MiB, hundreds of ms). A warm
 * Lambda keeps the master key per repository and password, so only a new password pays again.
 */
export class MasterKeyCache {
  private readonly keys = new Map<string, Promise<MasterKey>>();

  open(
    repository: string,
    password: string,
    keyFiles: () => AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  ): Promise<MasterKey> {
    const cacheKey = `${repository}\0${createHash("sha256").update(password).digest("hex")}`;
    let key = this.keys.get(cacheKey);
    if (!key) {
      key = openRepository(keyFiles(), password);
      this.keys.set(cacheKey, key);
      // A failure (wrong password, unreachable S3) must not be remembered.
      key.catch(() => this.keys.delete(cacheKey));
    }
    return key;
  }
}
