import { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { PasswordSource } from "../../shared/ingest/index-restic";

const secrets = new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient({}) });

/**
 * Restic repository passwords from Secrets Manager, cached for a minute in a warm Lambda; `fresh`
 * bypasses the cache when a cached password stopped working (someone just fixed it).
 */
export const passwords: PasswordSource = {
  async get(repository, options = {}) {
    try {
      const value = await secrets.get(repository.secretName, { maxAge: 60, forceFetch: options.fresh ?? false });
      return typeof value === "string" && value !== "" ? value : undefined;
    } catch (error) {
      if (error instanceof Error && /ResourceNotFound/.test(`${error.name} ${String(error.cause)}`)) return undefined;
      throw error;
    }
  },
};
