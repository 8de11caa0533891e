import { Duration, Validations } from "aws-cdk-lib";
import type { ITableV2 } from "aws-cdk-lib/aws-dynamodb";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import type { IBucket } from "aws-cdk-lib/aws-s3";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { RESTIC_PREFIX } from "../../shared/layout";
import { SCHEDULES, type ScheduledFunction } from "../../shared/schedules";
import { grantCatalogAccess, grantObjectRead, objectWildcardFinding } from "../grants";
import { RestorableFunction } from "./restorable-function";

export interface ScheduledProps {
  bucket: IBucket;
  table: ITableV2;
  ingestQueue: IQueue;
}

/** The Lambdas EventBridge runs on a schedule, each with only the grants it needs. */
export class Scheduled extends Construct {
  readonly verifier: RestorableFunction;
  readonly reconciler: RestorableFunction;

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
