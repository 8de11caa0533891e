import { Duration, Validations } from "aws-cdk-lib";
import type { ITableV2 } from "aws-cdk-lib/aws-dynamodb";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction as LambdaTarget } from "aws-cdk-lib/aws-events-targets";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import type { IBucket } from "aws-cdk-lib/aws-s3";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { FUNCTIONS, type ScheduledFunction, type SettingValues, scheduleOf } from "../../shared/contracts/functions";
import { INCOMING_PREFIX, PLANS_PREFIX, RESTIC_PREFIX, SETS_PREFIX } from "../../shared/contracts/layout";
import {
  grantCatalogAccess,
  grantObjectActions,
  grantObjectRead,
  grantResticPasswordRead,
  objectPatternFinding,
  objectWildcardFinding,
} from "../grants";
import { restorableFunction } from "./restorable-function";

export interface ScheduledProps {
  /** The backup bucket. */
  readonly bucket: IBucket;
  /** The catalog table. */
  readonly table: ITableV2;
  /** Where the reconciler hands the indexer what no event reported. */
  readonly ingestQueue: IQueue;
  /** The ingest queue's dead-letter queue, which the reconciler watches. */
  readonly deadLetterQueue: IQueue;
  /** The bucket's default encryption, as the audit expects it (shared/contracts/storage-policy.ts). */
  readonly intendedEncryption: string;
  /**
   * What the bucket audit does with drift: put it back, or only alert.
   * @default "repair"
   */
  readonly auditMode?: "repair" | "report";
}

/** The Lambdas EventBridge runs on a schedule, each with only the grants it needs. */
export class Scheduled extends Construct {
  readonly verifier: LambdaFunction;
  readonly reconciler: LambdaFunction;
  readonly retention: LambdaFunction;
  readonly bucketAudit: LambdaFunction;

  constructor(scope: Construct, id: string, props: ScheduledProps) {
    super(scope, id);
    const common = { catalogTable: props.table.tableName, backupBucket: props.bucket.bucketName };
    this.verifier = this.scheduledFunction("Verifier", "verifier", common);
    grantObjectRead(props.bucket, this.verifier, [RESTIC_PREFIX]);
    grantCatalogAccess(props.table, this.verifier, "read-write");
    Validations.of(this.verifier.role as Construct).acknowledge({
      id: objectWildcardFinding(props.bucket, RESTIC_PREFIX),
      reason:
        "The verifier hashes every data and index file of every repository; their names are not known in advance.",
    });

    this.reconciler = this.scheduledFunction("Reconciler", "reconciler", {
      ...common,
      ingestQueueUrl: props.ingestQueue.queueUrl,
      deadLetterQueueUrl: props.deadLetterQueue.queueUrl,
    });
    const reconciled = [SETS_PREFIX, INCOMING_PREFIX, RESTIC_PREFIX];
    grantObjectRead(props.bucket, this.reconciler, reconciled);
    // Read-write for the alerts it raises (replaced history, dead letters).
    grantCatalogAccess(props.table, this.reconciler, "read-write");
    props.ingestQueue.grantSendMessages(this.reconciler);
    this.reconciler.addToRolePolicy(
      new PolicyStatement({ actions: ["sqs:GetQueueAttributes"], resources: [props.deadLetterQueue.queueArn] }),
    );
    Validations.of(this.reconciler.role as Construct).acknowledge(
      ...reconciled.map((prefix) => ({
        id: objectWildcardFinding(props.bucket, prefix),
        reason: "The reconciler lists sets, commit requests and repositories; their keys are known only at run time.",
      })),
    );

    this.retention = this.scheduledFunction("Retention", "retention", common);
    grantObjectRead(props.bucket, this.retention, [SETS_PREFIX, RESTIC_PREFIX, PLANS_PREFIX]);
    grantCatalogAccess(props.table, this.retention, "read-write");
    const passwords = grantResticPasswordRead(props.bucket, this.retention);
    // Deletions only where retention removes: dump sets, restic snapshot files, and its own restic locks.
    const deletable = [`${SETS_PREFIX}*`, `${RESTIC_PREFIX}*/snapshots/*`, `${RESTIC_PREFIX}*/locks/*`];
    grantObjectActions(props.bucket, this.retention, ["s3:DeleteObject"], deletable);
    const writable = [`${RESTIC_PREFIX}*/locks/*`, `${PLANS_PREFIX}*`];
    grantObjectActions(props.bucket, this.retention, ["s3:PutObject"], writable);
    // Releasing a removed set's versions to expire after the grace period (a tag on each version).
    grantObjectActions(props.bucket, this.retention, ["s3:PutObjectVersionTagging"], [`${SETS_PREFIX}*`]);
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

    this.bucketAudit = this.scheduledFunction("BucketAudit", "bucketAudit", {
      ...common,
      bucketEncryption: props.intendedEncryption,
      auditMode: props.auditMode ?? "repair",
      expectTlsOnlyPolicy: "true",
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

  private scheduledFunction<N extends ScheduledFunction>(
    id: string,
    name: N,
    settings: SettingValues<(typeof FUNCTIONS)[N]>,
  ): LambdaFunction {
    const fn = restorableFunction(this, id, { contract: FUNCTIONS[name], settings });
    new Rule(this, `${id}Schedule`, {
      schedule: Schedule.rate(Duration.minutes(scheduleOf(name).everyMinutes)),
      targets: [new LambdaTarget(fn, { retryAttempts: 2 })],
    });
    return fn;
  }
}
