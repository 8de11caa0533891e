import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

export interface SecretValue {
  text: string;
  versionId: string | null;
}

/** Secrets Manager says a secret does not exist (the SDK's error class, or its name across SDK copies). */
export function isMissingSecret(error: unknown): boolean {
  return error instanceof Error && error.name === "ResourceNotFoundException";
}

/**
 * The one way Lambdas and the CLI read a secret's text: undefined when the secret does not exist or holds
 * no text; every other failure (access denied, throttling) is thrown. `maxAgeMs` > 0 keeps values that long
 * (a warm Lambda rereads a repository password once a minute); `fresh` skips the cache.
 */
export class SecretLookup {
  private readonly cache = new Map<string, { value: SecretValue | undefined; until: number }>();

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly options: { maxAgeMs?: number; clock?: () => number } = {},
  ) {}

  async get(name: string, options: { fresh?: boolean; versionId?: string } = {}): Promise<SecretValue | undefined> {
    const clock = this.options.clock ?? Date.now;
    const cacheKey = `${name}\u0000${options.versionId ?? ""}`;
    const cached = this.cache.get(cacheKey);
    if (!options.fresh && cached && cached.until > clock()) return cached.value;
    let value: SecretValue | undefined;
    try {
      const result = await this.client.send(
        new GetSecretValueCommand({ SecretId: name, ...(options.versionId ? { VersionId: options.versionId } : {}) }),
      );
      value =
        result.SecretString === undefined || result.SecretString === ""
          ? undefined
          : { text: result.SecretString, versionId: result.VersionId ?? null };
    } catch (error) {
      if (!isMissingSecret(error)) throw error;
      value = undefined;
    }
    const maxAgeMs = this.options.maxAgeMs ?? 0;
    if (maxAgeMs > 0) this.cache.set(cacheKey, { value, until: clock() + maxAgeMs });
    return value;
  }
}
