import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EC2Client } from "@aws-sdk/client-ec2";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SFNClient } from "@aws-sdk/client-sfn";
import { SQSClient } from "@aws-sdk/client-sqs";

/** The AWS clients a local stack's handlers and provisioning use. */
export interface LocalClients {
  s3: S3Client;
  dynamo: DynamoDBClient;
  sqs: SQSClient;
  secrets: SecretsManagerClient;
  ec2: EC2Client;
  sfn: SFNClient;
}

/**
 * Clients bound to one endpoint and region, so each local stack in a process talks to its own emulator
 * whatever AWS_ENDPOINT_URL says. Without an endpoint they follow the standard environment (tests, LocalStack).
 * An emulator takes any credentials; a real endpoint gets the standard chain.
 */
export function localClients(options: {
  endpoint?: string;
  region: string;
  /** Whose requests these are (an emulator enforcing IAM tells users apart); default: the environment's. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}): LocalClients {
  const credentials = options.credentials ?? {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? "restorable-local",
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? "restorable-local",
  };
  const config = {
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint, credentials } : {}),
  };
  return {
    s3: new S3Client({ ...config, ...(options.endpoint ? { forcePathStyle: true } : {}) }),
    dynamo: new DynamoDBClient(config),
    sqs: new SQSClient(config),
    secrets: new SecretsManagerClient(config),
    ec2: new EC2Client(config),
    sfn: new SFNClient(config),
  };
}
