import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SecretLookup } from "../aws/secrets";
import { openCatalog } from "../catalog/dynamo/open";
import type { Log } from "../log";
import { MasterKeyCache } from "../restic/key-cache";
import { secretPasswords } from "../restic/passwords";
import type { RetentionDependencies } from "../retention/apply";

/**
 * Retention's dependencies over one deployment's bucket and catalog: the same for the scheduled Lambda and
 * for an operator's `restorable retention` at a terminal, only the identity (`holder`, credentials) differs.
 */
export function retentionDependencies(
  clients: { s3: S3Client; dynamo: DynamoDBClient; secrets: SecretsManagerClient },
  where: { bucket: string; table: string },
  log: Log,
  holder: RetentionDependencies["holder"],
): RetentionDependencies {
  const catalog = openCatalog(clients.dynamo, where.table);
  return {
    s3: clients.s3,
    bucket: where.bucket,
    catalog: catalog.backups,
    retention: catalog.retention,
    alerts: catalog.alerts,
    repositories: catalog.repositories,
    passwords: secretPasswords(new SecretLookup(clients.secrets)),
    keys: new MasterKeyCache(),
    // The retention floor "newest backup with a passing drill" reads the drills' own records.
    drills: { newestPassed: async (source) => (await catalog.drills.newestPassed(source))?.backupId ?? null },
    log,
    now: () => new Date(),
    holder,
  };
}
