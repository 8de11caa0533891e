import { Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  Metric,
  SingleValueWidget,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { ITableV2 } from "aws-cdk-lib/aws-dynamodb";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction as LambdaTarget } from "aws-cdk-lib/aws-events-targets";
import { ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Key } from "aws-cdk-lib/aws-kms";
import type { Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import { SnsDestination } from "aws-cdk-lib/aws-lambda-destinations";
import { SnsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import type { IBucket } from "aws-cdk-lib/aws-s3";
import { Secret } from "aws-cdk-lib/aws-secretsmanager";
import { Topic } from "aws-cdk-lib/aws-sns";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import type { StateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { FUNCTIONS, type ScheduledFunction, scheduleOf } from "../../shared/contracts/functions";
import { METRICS, METRICS_NAMESPACE, type MetricDefinition } from "../../shared/contracts/metrics";
import { grantCatalogAccess } from "../grants";
import { restorableFunction } from "./restorable-function";

export interface MonitoringProps {
  /** The backup bucket (named in the Slack secret's name). */
  readonly bucket: IBucket;
  /** The catalog table, where alerts live. */
  readonly table: ITableV2;
  /** Every scheduled Lambda, by contract name: each gets a failure destination and a "did it run" alarm. */
  readonly scheduled: Partial<Record<ScheduledFunction, LambdaFunction>>;
  /** Every Lambda whose errors raise an alarm. */
  readonly functions: readonly LambdaFunction[];
  /** Dead-letter queues that must stay empty. */
  readonly deadLetterQueues: readonly IQueue[];
  readonly drillStateMachine: StateMachine;
  /**
   * No source may go longer than this without a passing drill (a dead man's switch: no figure at all counts).
   * @default 35 days (a monthly drill, with a few days of slack)
   */
  readonly maxDaysWithoutProof?: number;
}

/**
 * What tells people something is wrong: the Slack notifier (every alert of the catalog, from one place), the
 * source-health evaluator, CloudWatch alarms and failed scheduled runs turned into alerts through one SNS
 * topic, and a dashboard.
 */
export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly slackSecret: Secret;
  readonly notifier: LambdaFunction;
  readonly healthEvaluator: LambdaFunction;
  readonly alarmBridge: LambdaFunction;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const key = new Key(this, "TopicKey", {
      description: "Encrypts the restorable alarm topic",
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.topic = new Topic(this, "Alarms", { masterKey: key, enforceSSL: true, displayName: "restorable alarms" });
    // CloudWatch publishes alarm changes to the encrypted topic with the key.
    key.grant(new ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*");

    this.slackSecret = new Secret(this, "Slack", {
      secretName: `restorable/${props.bucket.bucketName}/slack`,
      description:
        'Where restorable\'s Slack messages go: a webhook URL, or {"token","channel"}; replace the placeholder',
      // A JSON object without "url" or "token" reads as "Slack not connected" (alerts wait, nothing is
      // sent) until the operator puts the webhook in; a random password would read as a broken value.
      generateSecretString: { secretStringTemplate: "{}", generateStringKey: "placeholder" },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.slackSecret).acknowledge({
      id: "AwsSolutions::AwsSolutions-SMG4",
      reason: "A Slack webhook URL is rotated in Slack, not by a Lambda.",
    });

    this.notifier = restorableFunction(this, "Notifier", {
      contract: FUNCTIONS.notifier,
      settings: { catalogTable: props.table.tableName, slackSecret: this.slackSecret.secretName },
    });
    grantCatalogAccess(props.table, this.notifier, "read-write");
    this.slackSecret.grantRead(this.notifier);

    this.healthEvaluator = restorableFunction(this, "HealthEvaluator", {
      contract: FUNCTIONS.healthEvaluator,
      settings: { catalogTable: props.table.tableName },
    });
    grantCatalogAccess(props.table, this.healthEvaluator, "read-write");

    this.alarmBridge = restorableFunction(this, "AlarmBridge", {
      contract: FUNCTIONS.alarmBridge,
      settings: { catalogTable: props.table.tableName },
    });
    grantCatalogAccess(props.table, this.alarmBridge, "read-write");
    this.alarmBridge.addEventSource(new SnsEventSource(this.topic));

    const scheduled = { ...props.scheduled, notifier: this.notifier, healthEvaluator: this.healthEvaluator };
    for (const [name, fn] of Object.entries(scheduled) as [ScheduledFunction, LambdaFunction][]) {
      if (name === "notifier" || name === "healthEvaluator") {
        new Rule(this, `${name}Schedule`, {
          schedule: Schedule.rate(Duration.minutes(scheduleOf(name).everyMinutes)),
          targets: [new LambdaTarget(fn, { retryAttempts: 2 })],
        });
      }
      // A scheduled run that fails after its retries becomes an alert, not a log line nobody reads.
      fn.configureAsyncInvoke({ onFailure: new SnsDestination(this.topic), retryAttempts: 2 });
      Validations.of(fn.role as Construct).acknowledge({
        id: "AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        reason: "Publishing a failed run to the encrypted alarm topic needs a data key of the topic's own key only.",
      });
      this.alarm(`${name}DidNotRun`, {
        metric: fn.metricInvocations({ period: didNotRunPeriod(name), statistic: "Sum" }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.BREACHING,
        alarmDescription: `${FUNCTIONS[name].entry} did not run on its schedule`,
      });
    }
    for (const fn of [...props.functions, this.notifier, this.healthEvaluator, this.alarmBridge]) {
      const name = Stack.of(this)
        .getLogicalId(fn.node.defaultChild as never)
        .replace(/[0-9A-F]{8}$/, "");
      this.alarm(`${name}Errors`, {
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: "Sum" }),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `${fn.node.path} threw errors`,
      });
    }
    props.deadLetterQueues.forEach((queue, index) => {
      this.alarm(`DeadLetters${index}`, {
        metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: "Maximum" }),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `messages wait in ${queue.node.path}: restorable ingest dlq`,
      });
    });
    this.alarm("DrillExecutionsFailed", {
      metric: props.drillStateMachine.metricFailed({ period: Duration.minutes(5), statistic: "Sum" }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: "a restore drill did not pass: restorable drill list",
    });
    this.alarm("NoRecentProofOfRestore", {
      metric: metric(METRICS.oldestProofDays, "Maximum", Duration.hours(6)),
      threshold: props.maxDaysWithoutProof ?? 35,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // A dead man's switch: no figure at all (the dispatcher stopped, no drill ever passed) is an alarm too.
      treatMissingData: TreatMissingData.BREACHING,
      alarmDescription: "a source has gone too long without a passing restore drill: restorable sources list",
    });
    this.dashboard(props);
  }

  private alarm(id: string, props: ConstructorParameters<typeof Alarm>[2]): void {
    const alarm = new Alarm(this, id, props);
    alarm.addAlarmAction(new SnsAction(this.topic));
    alarm.addOkAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
  }

  private dashboard(props: MonitoringProps): void {
    new Dashboard(this, "Dashboard", {
      dashboardName: `${Stack.of(this).stackName}-restorable`,
      widgets: [
        [
          new SingleValueWidget({
            title: "Stale sources",
            metrics: [metric(METRICS.staleSources, "Maximum")],
            width: 6,
          }),
          new SingleValueWidget({
            title: "Days since the oldest proof of restore",
            metrics: [metric(METRICS.oldestProofDays, "Maximum", Duration.hours(6))],
            width: 6,
          }),
          new GraphWidget({
            title: "Restore drills: passed, failed, RTO (s)",
            left: [metric(METRICS.drillPassed, "Sum"), metric(METRICS.drillNotPassed, "Sum")],
            right: [metric(METRICS.drillRtoSeconds, "Maximum")],
            width: 12,
          }),
        ],
        [
          new GraphWidget({
            title: "Bytes ingested, backups removed",
            left: [metric(METRICS.bytesIngested, "Sum")],
            right: [metric(METRICS.removedBackups, "Sum")],
            width: 12,
          }),
          new GraphWidget({
            title: "Dead letters",
            left: props.deadLetterQueues.map((queue) => queue.metricApproximateNumberOfMessagesVisible()),
            width: 12,
          }),
        ],
      ],
    });
  }
}

function metric(definition: MetricDefinition, statistic: string, period = Duration.minutes(5)): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: definition.metricName,
    dimensionsMap: { service: definition.service },
    statistic,
    period,
  });
}

/** Long enough to cover one scheduled run and its retries: twice the interval, at least an hour, at most a day. */
function didNotRunPeriod(name: ScheduledFunction): Duration {
  const minutes = Math.min(24 * 60, Math.max(60, scheduleOf(name).everyMinutes * 2));
  return Duration.minutes(minutes);
}
