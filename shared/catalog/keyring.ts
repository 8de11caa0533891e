import type { HeldKey } from "../keys/master-key";

/** Which master keys the service holds, by id and fingerprint (never the material). */
export interface Keyring {
  replace(keys: HeldKey[]): Promise<void>;
  /** undefined until someone has run `restorable key register`: then nothing can be judged. */
  held(): Promise<HeldKey[] | undefined>;
}

/** A warm Lambda reads the keyring once a minute, not per set. */
export class CachedKeyring {
  private cached: { ids: Set<string> | undefined; until: number } | undefined;

  constructor(
    private readonly keyring: Pick<Keyring, "held">,
    private readonly ttlMs = 60_000,
  ) {}

  async heldKeyIds(): Promise<Set<string> | undefined> {
    if (this.cached && this.cached.until > Date.now()) return this.cached.ids;
    const keys = await this.keyring.held();
    const ids = keys ? new Set(keys.flatMap((key) => [key.keyId, key.fingerprint])) : undefined;
    this.cached = { ids, until: Date.now() + this.ttlMs };
    return ids;
  }
}
