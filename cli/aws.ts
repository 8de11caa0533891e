import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { S3Client } from "@aws-sdk/client-s3";

/**
 * How the CLI's AWS clients behave on a host: a connection that goes silent fails after two minutes
 * and is retried, rather than hanging the backup forever. Clients load on first use, so a command
 * pays only for the SDK clients it needs.
 */
const requestHandler = { connectionTimeout: 10_000, requestTimeout: 120_000 };

export async function s3Client(): Promise<S3Client> {
  const { S3Client } = await import("./sdk/s3");
  return new S3Client({ requestHandler, maxAttempts: 5 });
}

export async function dynamoClient(): Promise<DynamoDBClient> {
  const { DynamoDBClient } = await import("./sdk/dynamodb");
  return new DynamoDBClient({ requestHandler, maxAttempts: 5 });
}

export async function secretsClient(): Promise<import("@aws-sdk/client-secrets-manager").SecretsManagerClient> {
  const { SecretsManagerClient } = await import("./sdk/secrets-manager");
  return new SecretsManagerClient({ requestHandler, maxAttempts: 5 });
}

export async function sqsClient(): Promise<import("@aws-sdk/client-sqs").SQSClient> {
  const { SQSClient } = await import("./sdk/sqs");
  return new SQSClient({ requestHandler, maxAttempts: 5 });
}

export async function sfnClient(): Promise<import("@aws-sdk/client-sfn").SFNClient> {
  const { SFNClient } = await import("./sdk/sfn");
  return new SFNClient({ requestHandler, maxAttempts: 5 });
}
