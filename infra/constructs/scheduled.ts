import { Duration, Validations } from "aws-cdk-lib";
import type { ITableV2 } from "aws-cdk-lib/aws-dynamodb";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IBucket } from "aws-cdk-lib/aws-s3";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { PLANS_PREFIX, RESTIC_PREFIX, SETS_PREFIX } from "../../shared/layout";
import { SCHEDULES, type ScheduledFunction } from "../../shared/schedules";
import {
  grantCatalogAccess,
  grantObjectActions,
  grantObjectRead,
  grantResticPasswordRead,
  objectPatternFinding,
  objectWildcardFinding,
} from "../grants";
import { RestorableFunction } from "./restorable-function";

export interface ScheduledProps {
  bucket: IBucket;
  table: ITableV2;
  ingestQueue: IQueue;
  /** The bucket's default encryption, as the audit expects it (shared/storage-policy.ts). */
  intendedEncryption: string;
}

/** The Lambdas EventBridge runs on a schedule, each with only the grants it needs. */
export class Scheduled extends Construct {
  readonly verifier: RestorableFunction;
  readonly reconciler: RestorableFunction;
  readonly retention: RestorableFunction;
  readonly bucketAudit: RestorableFunction;

  constructor(scope: Construct, id: string, props: ScheduledProps) {
    super(scope, id);
    this.verifier = this.scheduledFunction("Verifier", "verifier", Duration.minutes(15), props);
    grantObjectRead(props.bucket, this.verifier, [RESTIC_PREFIX]);
    grantCatalogAccess(props.table, this.verifier, "read-write");
    Validations.of(this.verifier.role as Construct).acknowledge({
      id: objectWildcardFinding(props.bucket, RESTIC_PREFIX),
      reason:
        "The verifier hashes every data and index file of every repository; their names are not known in advance.",
    });

    this.reconciler = this.scheduledFunction("Reconciler", "reconciler", Duration.minutes(5), props, {
      INGEST_QUEUE_URL: props.ingestQueue.queueUrl,
    });
    grantObjectRead(props.bucket, this.reconciler, [RESTIC_PREFIX]);
    grantCatalogAccess(props.table, this.reconciler, "read");
    props.ingestQueue.grantSendMessages(this.reconciler);
    Validations.of(this.reconciler.role as Construct).acknowledge({
      id: objectWildcardFinding(props.bucket, RESTIC_PREFIX),
      reason: "The reconciler lists every repository's snapshots/ folder; repositories are registered at run time.",
    });

    this.retention = this.scheduledFunction("Retention", "retention", Duration.minutes(15), props);
    grantObjectRead(props.bucket, this.retention, [SETS_PREFIX, RESTIC_PREFIX, PLANS_PREFIX]);
    grantCatalogAccess(props.table, this.retention, "read-write");
    const passwords = grantResticPasswordRead(props.bucket, this.retention);
    // Deletions only where retention removes: dump sets, restic snapshot files, and its own restic locks.
    const deletable = [`${SETS_PREFIX}*`, `${RESTIC_PREFIX}*/snapshots/*`, `${RESTIC_PREFIX}*/locks/*`];
    grantObjectActions(props.bucket, this.retention, ["s3:DeleteObject"], deletable);
    const writable = [`${RESTIC_PREFIX}*/locks/*`, `${PLANS_PREFIX}*`];
    grantObjectActions(props.bucket, this.retention, ["s3:PutObject"], writable);
    Validations.of(this.retention.role as Construct).acknowledge(
      ...[SETS_PREFIX, RESTIC_PREFIX, PLANS_PREFIX].map((prefix) => ({
        id: objectWildcardFinding(props.bucket, prefix),
        reason: "Retention reads the backups it judges; their keys are known only at run time.",
      })),
      ...[...new Set([...deletable, ...writable])].map((pattern) => ({
        id: objectPatternFinding(props.bucket, pattern),
        reason:
          "Retention deletes planned backups and writes its restic locks and plans; keys are known only at run time.",
      })),
      { id: passwords, reason: "Retention opens restic repositories to lock them; one secret per repository." },
    );

    this.bucketAudit = this.scheduledFunction("BucketAudit", "bucketAudit", Duration.minutes(2), props, {
      BUCKET_ENCRYPTION: props.intendedEncryption,
      AUDIT_MODE: "repair",
    });
    grantCatalogAccess(props.table, this.bucketAudit, "read-write");
    this.bucketAudit.addToRolePolicy(
      new PolicyStatement({
        actions: [
          "s3:GetLifecycleConfiguration",
          "s3:PutLifecycleConfiguration",
          "s3:GetBucketVersioning",
          "s3:PutBucketVersioning",
          "s3:GetEncryptionConfiguration",
          "s3:PutEncryptionConfiguration",
          "s3:GetBucketPublicAccessBlock",
          "s3:PutBucketPublicAccessBlock",
          "s3:GetBucketPolicy",
        ],
        resources: [props.bucket.bucketArn],
      }),
    );
  }

  private scheduledFunction(
    id: string,
    name: ScheduledFunction,
    timeout: Duration,
    props: ScheduledProps,
    environment: Record<string, string> = {},
  ): RestorableFunction {
    const schedule = SCHEDULES[name];
    const fn = new RestorableFunction(this, id, {
      handler: schedule.handler,
      description: schedule.description,
      timeout,
      memorySize: 1024,
      environment: {
        CATALOG_TABLE_NAME: props.table.tableName,
        BACKUP_BUCKET_NAME: props.bucket.bucketName,
        ...environment,
      },
    });
    new Rule(this, `${id}Schedule`, {
      schedule: Schedule.rate(Duration.minutes(schedule.everyMinutes)),
      targets: [new LambdaFunction(fn, { retryAttempts: 2 })],
    });
    return fn;
  }
}
