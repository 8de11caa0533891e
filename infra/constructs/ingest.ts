import { Duration, Stack, Validations } from "aws-cdk-lib";
import type { ITableV2 } from "aws-cdk-lib/aws-dynamodb";
import type { Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import { EventType, type IBucket } from "aws-cdk-lib/aws-s3";
import { SqsDestination } from "aws-cdk-lib/aws-s3-notifications";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { FUNCTIONS } from "../../shared/contracts/functions";
import { INGEST_NOTIFICATIONS, INGEST_QUEUE } from "../../shared/contracts/ingest";
import { INCOMING_PREFIX, MANIFEST_NAME, RESTIC_PREFIX, SETS_PREFIX } from "../../shared/contracts/layout";
import {
  grantCatalogAccess,
  grantObjectActions,
  grantObjectRead,
  grantResticPasswordRead,
  objectPatternFinding,
  objectWildcardFinding,
} from "../grants";
import { restorableFunction } from "./restorable-function";

const S3_EVENT_TYPES: Record<string, EventType> = {
  "s3:ObjectCreated:*": EventType.OBJECT_CREATED,
  "s3:ObjectRemoved:*": EventType.OBJECT_REMOVED,
};

export interface IngestProps {
  /** The backup bucket whose events are indexed. */
  readonly bucket: IBucket;
  /** The catalog table the indexer writes. */
  readonly table: ITableV2;
}

/** Bucket events → queue (with a dead-letter queue) → indexer Lambda → catalog. */
export class Ingest extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly indexer: LambdaFunction;

  constructor(scope: Construct, id: string, props: IngestProps) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, "DeadLetters", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(INGEST_QUEUE.retentionDays),
    });
    this.queue = new Queue(this, "Events", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(INGEST_QUEUE.visibilityTimeoutSeconds),
      retentionPeriod: Duration.days(INGEST_QUEUE.retentionDays),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: INGEST_QUEUE.maxReceiveCount },
    });
    for (const notification of INGEST_NOTIFICATIONS) {
      for (const event of notification.events) {
        const eventType = S3_EVENT_TYPES[event];
        if (!eventType) throw new Error(`no CDK event type for ${event}`);
        props.bucket.addEventNotification(eventType, new SqsDestination(this.queue), { prefix: notification.prefix });
      }
    }

    acknowledgeNotificationsHandler(this);

    const contract = FUNCTIONS.indexer;
    this.indexer = restorableFunction(this, "Indexer", {
      contract,
      settings: { catalogTable: props.table.tableName, backupBucket: props.bucket.bucketName },
    });
    this.indexer.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: contract.trigger.batchSize,
        maxBatchingWindow: Duration.seconds(contract.trigger.maxBatchingWindowSeconds),
        reportBatchItemFailures: true,
      }),
    );
    grantObjectRead(
      props.bucket,
      this.indexer,
      INGEST_NOTIFICATIONS.map((n) => n.prefix),
    );
    grantCatalogAccess(props.table, this.indexer, "read-write");
    const passwordsFinding = grantResticPasswordRead(props.bucket, this.indexer);
    // Committing a host's set: write its manifest (only if absent), then remove the request.
    const committed = `${SETS_PREFIX}*/${MANIFEST_NAME}`;
    grantObjectActions(props.bucket, this.indexer, ["s3:PutObject"], [committed]);
    grantObjectActions(props.bucket, this.indexer, ["s3:DeleteObject"], [`${INCOMING_PREFIX}*`]);
    // Putting replaced history back: copy the committed (or last sound) version over the key, and release
    // a replacing dump-set version to expire (a tag). It never deletes a version.
    const history = `${SETS_PREFIX}*`;
    grantObjectActions(props.bucket, this.indexer, ["s3:PutObject", "s3:PutObjectVersionTagging"], [history]);
    const repositories = `${RESTIC_PREFIX}*`;
    grantObjectActions(props.bucket, this.indexer, ["s3:PutObject"], [repositories]);
    Validations.of(this.indexer.role as Construct).acknowledge(
      ...INGEST_NOTIFICATIONS.map((n) => ({
        id: objectWildcardFinding(props.bucket, n.prefix),
        reason: "The indexer reads whatever arrives under its prefixes; objects are not known in advance.",
      })),
      ...[committed, `${INCOMING_PREFIX}*`, history, repositories].map((pattern) => ({
        id: objectPatternFinding(props.bucket, pattern),
        reason:
          "The indexer commits hosts' sets and puts replaced components back: committed manifests, commit requests and components have run-time keys.",
      })),
      {
        id: passwordsFinding,
        reason: "One secret per restic repository, registered at run time; the prefix is this deployment's alone.",
      },
    );
  }
}

/**
 * CDK configures bucket notifications through a singleton Lambda of its own whose role uses the AWS
 * managed basic-execution policy; it is not ours to change.
 */
function acknowledgeNotificationsHandler(scope: Construct): void {
  const stack = Stack.of(scope);
  for (const child of stack.node.children) {
    if (!child.node.id.startsWith("BucketNotificationsHandler")) continue;
    Validations.of(child).acknowledge({
      id: "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
      reason: "CDK's own bucket-notification configurator (custom resource); it only writes its logs with this policy.",
    });
  }
}
