import { CreateTableCommand, ResourceInUseException, waitUntilTableExists } from "@aws-sdk/client-dynamodb";
import {
  CreateBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
} from "@aws-sdk/client-s3";
import { CreateSecretCommand, ResourceExistsException } from "@aws-sdk/client-secrets-manager";
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { CATALOG_TABLE_DEFINITION } from "../../shared/contracts/catalog-table";
import type { Deployment } from "../../shared/contracts/deployment";
import { INGEST_NOTIFICATIONS, INGEST_QUEUE } from "../../shared/contracts/ingest";
import { LIFECYCLE_RULES, PUBLIC_ACCESS_BLOCK } from "../../shared/contracts/storage-policy";
import { generateMasterKey } from "../../shared/keys/master-key";
import { type LocalClients, localClients } from "./clients";

export interface ResourceNames {
  bucket: string;
  table: string;
  queue: string;
  deadLetterQueue: string;
}

export function resourceNames(prefix: string): ResourceNames {
  return {
    bucket: `${prefix}-backups`,
    table: `${prefix}-catalog`,
    queue: `${prefix}-ingest`,
    deadLetterQueue: `${prefix}-ingest-dlq`,
  };
}

/**
 * Creates, in whatever endpoint the SDK points at, the resources the CDK stack creates, from the
 * same definitions: table key schema and indexes, queue and dead-letter wiring, bucket
 * notifications. Used by the local stack and by integration tests. Idempotent.
 */
export async function provision(
  names: ResourceNames,
  region: string,
  clients: Pick<LocalClients, "s3" | "dynamo" | "sqs" | "secrets"> = localClients({ region }),
): Promise<Deployment> {
  const { s3, dynamo, sqs } = clients;

  await s3.send(new CreateBucketCommand({ Bucket: names.bucket })).catch(ignore("BucketAlreadyOwnedByYou"));
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: names.bucket, VersioningConfiguration: { Status: "Enabled" } }),
  );
  await s3.send(
    new PutBucketEncryptionCommand({
      Bucket: names.bucket,
      ServerSideEncryptionConfiguration: {
        Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
      },
    }),
  );
  await s3.send(
    new PutPublicAccessBlockCommand({ Bucket: names.bucket, PublicAccessBlockConfiguration: PUBLIC_ACCESS_BLOCK }),
  );
  await s3.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: names.bucket,
      LifecycleConfiguration: { Rules: [...LIFECYCLE_RULES] },
    }),
  );
  // No TLS-only bucket policy: the emulator serves plain HTTP on loopback, and it cannot evaluate the
  // policy's aws:SecureTransport condition (it would deny every request). The stack has one.

  const { keys, indexes } = CATALOG_TABLE_DEFINITION;
  const attributeNames = [keys.partitionKey, keys.sortKey, ...indexes.flatMap((i) => [i.partitionKey, i.sortKey])];
  await dynamo
    .send(
      new CreateTableCommand({
        TableName: names.table,
        BillingMode: CATALOG_TABLE_DEFINITION.billing,
        AttributeDefinitions: [...new Set(attributeNames)].map((name) => ({ AttributeName: name, AttributeType: "S" })),
        KeySchema: [
          { AttributeName: keys.partitionKey, KeyType: "HASH" },
          { AttributeName: keys.sortKey, KeyType: "RANGE" },
        ],
        GlobalSecondaryIndexes: indexes.map((index) => ({
          IndexName: index.indexName,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: "HASH" },
            { AttributeName: index.sortKey, KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        })),
        DeletionProtectionEnabled: true,
      }),
    )
    .catch((error: unknown) => {
      if (!(error instanceof ResourceInUseException)) throw error;
    });
  await waitUntilTableExists({ client: dynamo, maxWaitTime: 60 }, { TableName: names.table });

  const deadLetter = await sqs.send(
    new CreateQueueCommand({
      QueueName: names.deadLetterQueue,
      Attributes: { MessageRetentionPeriod: String(INGEST_QUEUE.retentionDays * 86_400) },
    }),
  );
  const deadLetterArn = await queueArn(sqs, deadLetter.QueueUrl as string);
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: names.queue,
      Attributes: {
        VisibilityTimeout: String(INGEST_QUEUE.visibilityTimeoutSeconds),
        MessageRetentionPeriod: String(INGEST_QUEUE.retentionDays * 86_400),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: deadLetterArn,
          maxReceiveCount: INGEST_QUEUE.maxReceiveCount,
        }),
      },
    }),
  );
  const ingestArn = await queueArn(sqs, queue.QueueUrl as string);
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: names.bucket,
      NotificationConfiguration: {
        QueueConfigurations: INGEST_NOTIFICATIONS.map((notification) => ({
          QueueArn: ingestArn,
          Events: [...notification.events],
          Filter: { Key: { FilterRules: [{ Name: "prefix", Value: notification.prefix }] } },
        })),
      },
    }),
  );

  const masterKeySecret = `restorable/${names.bucket}/master-key`;
  await clients.secrets
    .send(
      new CreateSecretCommand({
        Name: masterKeySecret,
        SecretString: JSON.stringify(generateMasterKey()),
        Description: "The application's master key (restorable key --help)",
      }),
    )
    .catch((error: unknown) => {
      if (!(error instanceof ResourceExistsException)) throw error;
    });

  return {
    region,
    bucket: names.bucket,
    masterKeySecret,
    table: names.table,
    queueUrl: queue.QueueUrl as string,
    deadLetterQueueUrl: deadLetter.QueueUrl as string,
    encryption: "AES256",
  };
}

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
  );
  const arn = attributes.Attributes?.QueueArn;
  if (!arn) throw new Error(`queue ${queueUrl} has no ARN`);
  return arn;
}

function ignore(name: string) {
  return (error: unknown) => {
    if (!(error instanceof Error) || error.name !== name) throw error;
  };
}
