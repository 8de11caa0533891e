import type { SecretLookup } from "../aws/secrets";
import type { PasswordSource } from "./ports";

/**
 * Repository passwords from their Secrets Manager secrets (`resticSecretName`): the secret's string is the
 * password, read as restic reads `--password-file`.
 */
export function secretPasswords(secrets: Pick<SecretLookup, "get">): PasswordSource {
  return {
    async get(repository, options = {}) {
      return (await secrets.get(repository.secretName, { fresh: options.fresh ?? false }))?.text;
    },
  };
}
