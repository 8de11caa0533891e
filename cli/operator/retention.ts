import { hostname, userInfo } from "node:os";
import { DynamoAlertStore } from "../../shared/catalog/alerts";
import { DynamoRepositoryStore } from "../../shared/catalog/dynamo-repositories";
import { DynamoRetentionStore } from "../../shared/catalog/dynamo-retention";
import { DynamoCatalogStore } from "../../shared/catalog/dynamo-store";
import type { Deployment } from "../../shared/deployment";
import type { PasswordSource } from "../../shared/ingest/index-restic";
import { silentLog } from "../../shared/log";
import { MasterKeyCache } from "../../shared/restic/key-cache";
import type { RetentionDependencies } from "../../shared/retention/apply";
import { dynamoClient, s3Client, secretsClient } from "../aws";

/**
 * The retention dependencies for an operator at a terminal: the same domain code the scheduled
 * Lambda runs, with the operator's credentials.
 */
export async function operatorRetention(deployment: Deployment): Promise<RetentionDependencies> {
  const dynamo = await dynamoClient();
  const secrets = await secretsClient();
  const { GetSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
  const passwords: PasswordSource = {
    async get(repository) {
      try {
        const result = await secrets.send(new GetSecretValueCommand({ SecretId: repository.secretName }));
        return result.SecretString || undefined;
      } catch (error) {
        if (error instanceof Error && error.name === "ResourceNotFoundException") return undefined;
        throw error;
      }
    },
  };
  return {
    s3: await s3Client(),
    bucket: deployment.bucket,
    catalog: new DynamoCatalogStore(dynamo, deployment.table),
    retention: new DynamoRetentionStore(dynamo, deployment.table),
    alerts: new DynamoAlertStore(dynamo, deployment.table),
    repositories: new DynamoRepositoryStore(dynamo, deployment.table),
    passwords,
    keys: new MasterKeyCache(),
    log: silentLog,
    now: () => new Date(),
    holder: { hostname: `restorable-cli@${hostname()}`, username: userInfo().username, pid: process.pid },
  };
}
