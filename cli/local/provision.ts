import { CreateTableCommand, ResourceInUseException, waitUntilTableExists } from "@aws-sdk/client-dynamodb";
import {
  CreateLaunchTemplateCommand,
  DescribeLaunchTemplatesCommand,
  DescribeSubnetsCommand,
} from "@aws-sdk/client-ec2";
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
import { FUNCTIONS } from "../../shared/contracts/functions";
import { INGEST_NOTIFICATIONS, INGEST_QUEUE } from "../../shared/contracts/ingest";
import { LIFECYCLE_RULES, PUBLIC_ACCESS_BLOCK } from "../../shared/contracts/storage-policy";
import { DRILLS_PREFIX } from "../../shared/drills/layout";
import { generateMasterKey } from "../../shared/keys/master-key";
import { type LocalClients, localClients } from "./clients";
import { provisionDrillStateMachine } from "./drill-machine";

export interface ResourceNames {
  bucket: string;
  table: string;
  queue: string;
  deadLetterQueue: string;
  drillQueue: string;
  drillDeadLetterQueue: string;
  drillLaunchTemplate: string;
  pruneLaunchTemplate: string;
  drillStateMachine: string;
}

export function resourceNames(prefix: string): ResourceNames {
  return {
    bucket: `${prefix}-backups`,
    table: `${prefix}-catalog`,
    queue: `${prefix}-ingest`,
    deadLetterQueue: `${prefix}-ingest-dlq`,
    drillQueue: `${prefix}-drills`,
    drillDeadLetterQueue: `${prefix}-drills-dlq`,
    drillLaunchTemplate: `${prefix}-drill-instance`,
    pruneLaunchTemplate: `${prefix}-prune-instance`,
    drillStateMachine: `${prefix}-drills`,
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
  clients: Pick<LocalClients, "s3" | "dynamo" | "sqs" | "secrets" | "ec2" | "sfn"> = localClients({ region }),
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
  const drills = await provisionDrills(names, clients);
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: names.bucket,
      NotificationConfiguration: {
        QueueConfigurations: [
          ...INGEST_NOTIFICATIONS.map((notification) => ({
            QueueArn: ingestArn,
            Events: [...notification.events],
            Filter: { Key: { FilterRules: [{ Name: "prefix" as const, Value: notification.prefix }] } },
          })),
          {
            QueueArn: drills.queueArn,
            Events: ["s3:ObjectCreated:*"],
            Filter: { Key: { FilterRules: [{ Name: "prefix" as const, Value: DRILLS_PREFIX }] } },
          },
        ],
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

  const partial = {
    region,
    bucket: names.bucket,
    table: names.table,
    drillQueueUrl: drills.queueUrl,
    drillLaunchTemplateId: drills.launchTemplateId,
    pruneLaunchTemplateId: drills.pruneLaunchTemplateId,
    drillSubnetId: drills.subnetId,
  };
  const drillStateMachineArn = await provisionDrillStateMachine(clients.sfn, names.drillStateMachine, partial);
  return {
    region,
    bucket: names.bucket,
    masterKeySecret,
    drillStateMachineArn,
    table: names.table,
    queueUrl: queue.QueueUrl as string,
    deadLetterQueueUrl: deadLetter.QueueUrl as string,
    drillQueueUrl: drills.queueUrl,
    drillLaunchTemplateId: drills.launchTemplateId,
    pruneLaunchTemplateId: drills.pruneLaunchTemplateId,
    drillSubnetId: drills.subnetId,
    encryption: "AES256",
  };
}

/**
 * The drills' queue, and what the emulator's EC2 needs to launch a drill instance like the stack's launch
 * template does (terminate on shutdown, IMDSv2); the image is one the emulator knows.
 */
async function provisionDrills(names: ResourceNames, clients: Pick<LocalClients, "sqs" | "ec2">) {
  const { sqs, ec2 } = clients;
  const deadLetter = await sqs.send(new CreateQueueCommand({ QueueName: names.drillDeadLetterQueue }));
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: names.drillQueue,
      Attributes: {
        VisibilityTimeout: String(FUNCTIONS.drillWorker.timeoutSeconds * 6),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: await queueArn(sqs, deadLetter.QueueUrl as string),
          maxReceiveCount: 5,
        }),
      },
    }),
  );
  const subnets = await ec2.send(new DescribeSubnetsCommand({}));
  const subnetId = subnets.Subnets?.[0]?.SubnetId;
  if (!subnetId) throw new Error("the emulator's EC2 has no subnet to launch drill instances in");
  // Drills and prune jobs launch alike here: the emulator's instances run the agent with no role.
  const launchTemplateId = await launchTemplate(ec2, names.drillLaunchTemplate);
  const pruneLaunchTemplateId = await launchTemplate(ec2, names.pruneLaunchTemplate);
  return {
    queueUrl: queue.QueueUrl as string,
    queueArn: await queueArn(sqs, queue.QueueUrl as string),
    subnetId,
    launchTemplateId,
    pruneLaunchTemplateId,
  };
}

async function launchTemplate(ec2: LocalClients["ec2"], name: string): Promise<string> {
  const existing = await ec2
    .send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: [name] }))
    .catch(() => undefined);
  const id =
    existing?.LaunchTemplates?.[0]?.LaunchTemplateId ??
    (
      await ec2.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: name,
          LaunchTemplateData: {
            ImageId: EMULATOR_IMAGE,
            InstanceInitiatedShutdownBehavior: "terminate",
            MetadataOptions: { HttpTokens: "required" },
          },
        }),
      )
    ).LaunchTemplate?.LaunchTemplateId;
  if (!id) throw new Error(`the emulator did not create the launch template ${name}`);
  return id;
}

/** An Amazon Linux image id the emulator's EC2 ships with. */
const EMULATOR_IMAGE = "ami-12c6146b";

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
