import { hostname, userInfo } from "node:os";
import { retentionDependencies } from "../../shared/compose/retention";
import type { Deployment } from "../../shared/contracts/deployment";
import { silentLog } from "../../shared/log";
import type { RetentionDependencies } from "../../shared/retention/apply";
import { dynamoClient, s3Client, secretsClient } from "../aws";

/**
 * The retention dependencies for an operator at a terminal: the same domain code the scheduled
 * Lambda runs, with the operator's credentials.
 */
export async function operatorRetention(deployment: Deployment): Promise<RetentionDependencies> {
  return retentionDependencies(
    { s3: await s3Client(), dynamo: await dynamoClient(), secrets: await secretsClient() },
    deployment,
    silentLog,
    { hostname: `restorable-cli@${hostname()}`, username: userInfo().username, pid: process.pid },
  );
}
