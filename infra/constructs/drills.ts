import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import type { ITableV2 } from "aws-cdk-lib/aws-dynamodb";
import {
  BlockDeviceVolume,
  EbsDeviceVolumeType,
  FlowLogDestination,
  GatewayVpcEndpointAwsService,
  InstanceInitiatedShutdownBehavior,
  type ISecurityGroup,
  type ISubnet,
  LaunchTemplate,
  MachineImage,
  Peer,
  Port,
  SecurityGroup,
  SubnetType,
  Vpc,
} from "aws-cdk-lib/aws-ec2";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction as LambdaTarget } from "aws-cdk-lib/aws-events-targets";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import type { Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { EventType, type IBucket } from "aws-cdk-lib/aws-s3";
import { Asset } from "aws-cdk-lib/aws-s3-assets";
import { SqsDestination } from "aws-cdk-lib/aws-s3-notifications";
import type { ISecret } from "aws-cdk-lib/aws-secretsmanager";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import {
  Choice,
  Condition,
  DefinitionBody,
  Fail,
  IntegrationPattern,
  JsonPath,
  LogLevel,
  Pass,
  StateMachine,
  Succeed,
  TaskInput,
  Timeout,
} from "aws-cdk-lib/aws-stepfunctions";
import { CallAwsService, SqsSendMessage } from "aws-cdk-lib/aws-stepfunctions-tasks";
import { Construct } from "constructs";
import { buildSync } from "esbuild";
import { FUNCTIONS, scheduleOf } from "../../shared/contracts/functions";
import { RESTIC_PREFIX, SETS_PREFIX } from "../../shared/contracts/layout";
import { DRILL_TAGS } from "../../shared/drills/janitor";
import { DRILLS_PREFIX } from "../../shared/drills/layout";
import {
  grantCatalogAccess,
  grantObjectActions,
  grantObjectRead,
  grantResticPasswordRead,
  objectPatternFinding,
  objectWildcardFinding,
} from "../grants";
import { restorableFunction, STUB_FUNCTION_CODE_CONTEXT } from "./restorable-function";

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface DrillsProps {
  /** The backup bucket: drills read pinned versions from it and write their reports to drills/. */
  readonly bucket: IBucket;
  /** The catalog table. */
  readonly table: ITableV2;
  /** The master key secret, read only for a drill whose plan opts in. */
  readonly masterKey: ISecret;
}

/**
 * Restore drills: a state machine (JSONPath) that prepares a drill, launches a throwaway instance, waits for
 * its agent's report, terminates the instance on every path, and judges the result; a worker Lambda runs its
 * own steps from a queue (so the emulator, which cannot run Lambda code, executes the same definition); a
 * dispatcher starts what plans make due; a janitor terminates any drill instance past its deadline.
 */
export class Drills extends Construct {
  readonly queue: Queue;
  readonly deadLetters: Queue;
  readonly worker: LambdaFunction;
  readonly dispatcher: LambdaFunction;
  readonly janitor: LambdaFunction;
  readonly stateMachine: StateMachine;
  readonly launchTemplate: LaunchTemplate;
  readonly instanceRole: Role;
  /** `restic prune` jobs: the only identity that may delete restic's data/ and index/ files. */
  readonly pruneLaunchTemplate: LaunchTemplate;
  readonly pruneRole: Role;
  readonly subnet: ISubnet;
  readonly securityGroup: ISecurityGroup;

  constructor(scope: Construct, id: string, props: DrillsProps) {
    super(scope, id);
    const deadLetters = new Queue(this, "WorkDeadLetters", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.deadLetters = deadLetters;
    this.queue = new Queue(this, "Work", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(FUNCTIONS.drillWorker.timeoutSeconds * 6),
      deadLetterQueue: { queue: deadLetters, maxReceiveCount: 5 },
    });
    props.bucket.addEventNotification(EventType.OBJECT_CREATED, new SqsDestination(this.queue), {
      prefix: DRILLS_PREFIX,
    });

    const network = this.network();
    this.subnet = network.subnet;
    this.securityGroup = network.securityGroup;
    // A restic drill's restic reads its repository with this role; a dump set's agent uses presigned URLs
    // only. Nothing under sets/, no secret: the password comes in the drill's config.
    this.instanceRole = new Role(this, "InstanceRole", {
      assumedBy: new ServicePrincipal("ec2.amazonaws.com"),
      description: "Restore-drill instances: read restic repositories, nothing else",
    });
    grantObjectRead(props.bucket, this.instanceRole, [RESTIC_PREFIX]);
    Validations.of(this.instanceRole).acknowledge({
      id: objectWildcardFinding(props.bucket, RESTIC_PREFIX),
      reason: "restic reads whichever packs the drilled snapshot needs; they are known only to restic.",
    });
    this.launchTemplate = this.instanceTemplate("Instance", this.instanceRole, network.securityGroup);

    // restic prune rewrites packs and indexes and deletes what no snapshot uses: read and write under restic/,
    // delete only data/, index/ and locks/ (never snapshots/, keys/ or config). No other role may delete them.
    this.pruneRole = new Role(this, "PruneInstanceRole", {
      assumedBy: new ServicePrincipal("ec2.amazonaws.com"),
      description: "restic prune instances: rewrite and delete restic packs and indexes, nothing outside restic/",
    });
    grantObjectRead(props.bucket, this.pruneRole, [RESTIC_PREFIX]);
    grantObjectActions(props.bucket, this.pruneRole, ["s3:PutObject"], [`${RESTIC_PREFIX}*`]);
    const prunable = ["data", "index", "locks"].map((folder) => `${RESTIC_PREFIX}*/${folder}/*`);
    grantObjectActions(props.bucket, this.pruneRole, ["s3:DeleteObject"], prunable);
    Validations.of(this.pruneRole).acknowledge(
      {
        id: objectWildcardFinding(props.bucket, RESTIC_PREFIX),
        reason: "restic prune reads every index and the packs it repacks, and writes new ones named by their hash.",
      },
      ...prunable.map((pattern) => ({
        id: objectPatternFinding(props.bucket, pattern),
        reason: "prune deletes the packs and indexes no snapshot uses, and its own lock; known only to restic.",
      })),
    );
    this.pruneLaunchTemplate = this.instanceTemplate("PruneInstance", this.pruneRole, network.securityGroup);

    const assets = this.agentAssets();
    this.worker = restorableFunction(this, "Worker", {
      contract: FUNCTIONS.drillWorker,
      settings: {
        catalogTable: props.table.tableName,
        backupBucket: props.bucket.bucketName,
        masterKeySecret: props.masterKey.secretName,
        drillAgentObject: assets.agent ? `${assets.agent.s3BucketName}/${assets.agent.s3ObjectKey}` : "none",
        drillResticObject: assets.restic ? `${assets.restic.s3BucketName}/${assets.restic.s3ObjectKey}` : "none",
      },
    });
    this.worker.addEventSource(new SqsEventSource(this.queue, { batchSize: 1, reportBatchItemFailures: true }));
    this.grantWorker(props, assets);

    this.stateMachine = this.defineStateMachine(network.subnet);
    this.stateMachine.grantTaskResponse(this.worker);

    this.dispatcher = restorableFunction(this, "Dispatcher", {
      contract: FUNCTIONS.drillDispatcher,
      settings: { catalogTable: props.table.tableName, drillStateMachineArn: this.stateMachine.stateMachineArn },
    });
    grantCatalogAccess(props.table, this.dispatcher, "read-write");
    this.stateMachine.grantStartExecution(this.dispatcher);

    this.janitor = restorableFunction(this, "Janitor", {
      contract: FUNCTIONS.drillJanitor,
      settings: { catalogTable: props.table.tableName },
    });
    grantCatalogAccess(props.table, this.janitor, "read-write");
    this.janitor.addToRolePolicy(new PolicyStatement({ actions: ["ec2:DescribeInstances"], resources: ["*"] }));
    this.janitor.addToRolePolicy(terminateDrillInstances(this));
    Validations.of(this.janitor.role as Construct).acknowledge(
      {
        id: "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
        reason: "ec2:DescribeInstances supports no resource-level permissions.",
      },
      {
        id: "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*]",
        reason: "Drill instances are known only at run time; terminating requires the restorable:drill tag.",
      },
    );
    for (const [fn, name] of [
      [this.dispatcher, "drillDispatcher"],
      [this.janitor, "drillJanitor"],
    ] as const) {
      new Rule(this, `${name}Schedule`, {
        schedule: Schedule.rate(Duration.minutes(scheduleOf(name).everyMinutes)),
        targets: [new LambdaTarget(fn, { retryAttempts: 2 })],
      });
    }
  }

  /** A throwaway instance: current Amazon Linux, IMDSv2 only, terminated on shutdown, an encrypted disk. */
  private instanceTemplate(id: string, role: Role, securityGroup: ISecurityGroup): LaunchTemplate {
    return new LaunchTemplate(this, id, {
      role,
      machineImage: MachineImage.latestAmazonLinux2023(),
      requireImdsv2: true,
      instanceInitiatedShutdownBehavior: InstanceInitiatedShutdownBehavior.TERMINATE,
      securityGroup,
      blockDevices: [
        {
          deviceName: "/dev/xvda",
          volume: BlockDeviceVolume.ebs(50, {
            encrypted: true,
            volumeType: EbsDeviceVolumeType.GP3,
            deleteOnTermination: true,
          }),
        },
      ],
    });
  }

  /** A VPC of its own: isolated subnets in two AZs, an S3 gateway endpoint, no NAT, no internet. */
  private network(): { subnet: ISubnet; securityGroup: ISecurityGroup } {
    const vpc = new Vpc(this, "Network", {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: "drills", subnetType: SubnetType.PRIVATE_ISOLATED }],
      // Amazon Linux's package repositories and the bucket are reached through S3, nothing else.
      gatewayEndpoints: { S3: { service: GatewayVpcEndpointAwsService.S3 } },
      flowLogs: {
        rejected: {
          destination: FlowLogDestination.toCloudWatchLogs(
            new LogGroup(this, "NetworkFlowLogs", {
              retention: RetentionDays.THREE_MONTHS,
              removalPolicy: RemovalPolicy.DESTROY,
            }),
          ),
        },
      },
    });
    const securityGroup = new SecurityGroup(this, "NoInbound", {
      vpc,
      description: "Restore-drill instances: no inbound at all, HTTPS out (S3 through the gateway endpoint)",
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(
      Peer.anyIpv4(),
      Port.tcp(443),
      "HTTPS to S3 (gateway endpoint) and package repositories",
    );
    return { subnet: vpc.isolatedSubnets[0] as ISubnet, securityGroup };
  }

  /** The agent bundle and restic binary the instances download; left out of template-only test synths. */
  private agentAssets(): { agent: Asset | null; restic: Asset | null } {
    if (this.node.tryGetContext(STUB_FUNCTION_CODE_CONTEXT) === true) return { agent: null, restic: null };
    const directory = mkdtempSync(path.join(tmpdir(), "restorable-drill-agent-"));
    buildAgentBundle(path.join(directory, "agent"));
    const agent = new Asset(this, "AgentBundle", { path: path.join(directory, "agent", "restorable-drill-agent.mjs") });
    const resticBinary = path.join(repositoryRoot, ".tools", "bin", "restic");
    let restic: Asset | null = null;
    try {
      restic = new Asset(this, "ResticBinary", { path: resticBinary });
    } catch {
      // No restic built here (npm test builds it): restic drills then end in ERROR, saying restic is missing.
    }
    return { agent, restic };
  }

  private grantWorker(props: DrillsProps, assets: { agent: Asset | null; restic: Asset | null }): void {
    const { bucket, table } = props;
    // Presigned URLs carry the worker's identity: it must itself read the sets it hands out and write reports.
    grantObjectRead(bucket, this.worker, [SETS_PREFIX, DRILLS_PREFIX]);
    grantObjectActions(bucket, this.worker, ["s3:PutObject"], [`${DRILLS_PREFIX}*`]);
    bucket.encryptionKey?.grant(this.worker, "kms:Decrypt", "kms:GenerateDataKey");
    grantCatalogAccess(table, this.worker, "read-write");
    props.masterKey.grantRead(this.worker);
    const passwords = grantResticPasswordRead(bucket, this.worker);
    assets.agent?.grantRead(this.worker);
    assets.restic?.grantRead(this.worker);
    Validations.of(this.worker.role as Construct).acknowledge(
      ...[SETS_PREFIX, DRILLS_PREFIX].map((prefix) => ({
        id: objectWildcardFinding(bucket, prefix),
        reason:
          "The worker presigns reads of the drilled set's pinned versions and writes drill reports; keys are known at run time.",
      })),
      {
        id: objectPatternFinding(bucket, `${DRILLS_PREFIX}*`),
        reason: "Drill configs and reports have run-time keys.",
      },
      { id: passwords, reason: "A restic drill needs its repository's password; one secret per repository." },
      {
        id: "AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        reason: "Writing SSE-KMS reports needs a data key from the bucket's own key only.",
      },
      {
        id: "AwsSolutions::AwsSolutions-IAM5[Action::s3:GetBucket*]",
        reason: "CDK's asset read grant for the agent bundle, on the asset bucket only.",
      },
      {
        id: "AwsSolutions::AwsSolutions-IAM5[Action::s3:GetObject*]",
        reason: "CDK's asset read grant for the agent bundle, on the asset bucket only.",
      },
      {
        id: "AwsSolutions::AwsSolutions-IAM5[Action::s3:List*]",
        reason: "CDK's asset read grant for the agent bundle, on the asset bucket only.",
      },
    );
  }

  private defineStateMachine(subnet: ISubnet): StateMachine {
    const send = (
      id: string,
      body: Record<string, unknown>,
      resultPath: string,
      timeouts: Partial<Record<"heartbeat" | "task", Timeout>>,
    ) =>
      new SqsSendMessage(this, id, {
        queue: this.queue,
        integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        messageBody: TaskInput.fromObject({ token: JsonPath.taskToken, ...body }),
        resultPath,
        ...(timeouts.heartbeat ? { heartbeatTimeout: timeouts.heartbeat } : {}),
        taskTimeout: timeouts.task ?? Timeout.duration(Duration.minutes(15)),
      });
    // Paths every later step reads exist from the start, whichever step fails.
    const init = new Pass(this, "Init", {
      result: { value: { launched: { instanceIds: [] }, failure: null } },
      resultPath: "$.state",
    });
    const prepare = send(
      "Prepare",
      { task: "prepare", request: JsonPath.objectAt("$.request"), executionArn: JsonPath.executionId },
      "$.launch",
      {},
    );
    const launchWith = (id: string, template: LaunchTemplate) =>
      new CallAwsService(this, id, {
        service: "ec2",
        action: "runInstances",
        parameters: {
          LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: "$Latest" },
          SubnetId: subnet.subnetId,
          MinCount: 1,
          MaxCount: 1,
          InstanceType: JsonPath.stringAt("$.launch.instanceType"),
          UserData: JsonPath.stringAt("$.launch.userData"),
          BlockDeviceMappings: [
            {
              DeviceName: "/dev/xvda",
              Ebs: {
                VolumeSize: JsonPath.numberAt("$.launch.diskGiB"),
                VolumeType: "gp3",
                Encrypted: true,
                DeleteOnTermination: true,
              },
            },
          ],
          TagSpecifications: ["instance", "volume"].map((resourceType) => ({
            ResourceType: resourceType,
            Tags: [
              { Key: DRILL_TAGS.drill, Value: JsonPath.stringAt("$.request.drillId") },
              { Key: DRILL_TAGS.deadline, Value: JsonPath.stringAt("$.launch.deadline") },
            ],
          })),
        },
        iamResources: ["*"],
        resultSelector: { "instanceIds.$": "$.Instances[*].InstanceId" },
        resultPath: "$.state.launched",
      });
    const launch = launchWith("Launch", this.launchTemplate);
    // A prune job's instance gets the prune role, the only one that may delete restic packs and indexes.
    const launchPrune = launchWith("LaunchPrune", this.pruneLaunchTemplate);
    const launchFor = new Choice(this, "PruneJob?")
      .when(Condition.stringEquals("$.launch.role", "prune"), launchPrune)
      .otherwise(launch);
    const awaitReport = send(
      "AwaitReport",
      {
        task: "await-report",
        drillId: JsonPath.stringAt("$.request.drillId"),
        instanceIds: JsonPath.objectAt("$.state.launched.instanceIds"),
      },
      "$.report",
      { heartbeat: Timeout.at("$.launch.heartbeatSeconds"), task: Timeout.at("$.launch.timeoutSeconds") },
    );
    const terminate = new CallAwsService(this, "Terminate", {
      service: "ec2",
      action: "terminateInstances",
      parameters: { InstanceIds: JsonPath.listAt("$.state.launched.instanceIds") },
      iamResources: [this.instancesArn()],
      resultPath: JsonPath.DISCARD,
    });
    terminate.addRetry({ errors: ["States.ALL"], maxAttempts: 6, interval: Duration.seconds(5), backoffRate: 2 });
    const finish = send(
      "Finish",
      {
        task: "finish",
        drillId: JsonPath.stringAt("$.request.drillId"),
        instanceIds: JsonPath.objectAt("$.state.launched.instanceIds"),
        failure: JsonPath.objectAt("$.state.failure"),
      },
      "$.result",
      {},
    );
    const failed = new Fail(this, "DrillDidNotPass", { error: "DrillDidNotPass", causePath: "$.result.reason" });
    const outcome = new Choice(this, "Passed?")
      .when(Condition.stringEquals("$.result.status", "PASSED"), new Succeed(this, "DrillPassed"))
      .otherwise(failed);
    const caught = { resultPath: "$.state.failure", errors: ["States.ALL"] };
    prepare.addCatch(finish, caught);
    launch.addCatch(finish, caught);
    launchPrune.addCatch(finish, caught);
    awaitReport.addCatch(terminate, caught);
    terminate.addCatch(finish, { ...caught, resultPath: "$.state.terminateFailure" });
    finish.addCatch(new Fail(this, "CouldNotJudge", { error: "CouldNotJudge" }), { errors: ["States.ALL"] });
    launchFor.afterwards().next(awaitReport).next(terminate).next(finish).next(outcome);
    const definition = init.next(prepare).next(launchFor);

    const logs = new LogGroup(this, "StateMachineLogs", {
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stateMachine = new StateMachine(this, "StateMachine", {
      definitionBody: DefinitionBody.fromChainable(definition),
      timeout: Duration.hours(25),
      tracingEnabled: true,
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: false },
    });
    stateMachine.addToRolePolicy(terminateDrillInstances(this));
    this.instanceRole.grantPassRole(stateMachine.role);
    this.pruneRole.grantPassRole(stateMachine.role);
    stateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ["ec2:CreateTags"],
        resources: [this.instancesArn(), this.volumesArn()],
        conditions: { StringEquals: { "ec2:CreateAction": "RunInstances" } },
      }),
    );
    Validations.of(stateMachine.role as Construct).acknowledge(
      {
        id: "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
        reason:
          "ec2:RunInstances reaches images, subnets and network interfaces unknown until launch; X-Ray and log delivery take no resource.",
      },
      {
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*]`,
        reason: "Drill instances are created by the run; terminating them requires the restorable:drill tag.",
      },
      {
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:volume/*]`,
        reason: "Tagging the volumes RunInstances creates for a drill, only within RunInstances.",
      },
    );
    return stateMachine;
  }

  private instancesArn(): string {
    return Stack.of(this).formatArn({
      service: "ec2",
      resource: "instance",
      resourceName: "*",
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  private volumesArn(): string {
    return Stack.of(this).formatArn({
      service: "ec2",
      resource: "volume",
      resourceName: "*",
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }
}

/** Only instances the state machine launched for a drill (tagged restorable:drill) may be terminated. */
function terminateDrillInstances(scope: Construct): PolicyStatement {
  return new PolicyStatement({
    actions: ["ec2:TerminateInstances"],
    resources: [
      Stack.of(scope).formatArn({
        service: "ec2",
        resource: "instance",
        resourceName: "*",
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      }),
    ],
    conditions: { Null: { [`ec2:ResourceTag/${DRILL_TAGS.drill}`]: "false" } },
  });
}

/** One file the instance runs with Node: the drill agent alone (cli/drill/agent-main.ts). */
function buildAgentBundle(outdir: string): void {
  mkdirSync(outdir, { recursive: true });
  // esbuild is a dev tool of this repository; synth runs where the repository is.
  buildSync({
    entryPoints: [path.join(repositoryRoot, "cli", "drill", "agent-main.ts")],
    outfile: path.join(outdir, "restorable-drill-agent.mjs"),
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node18",
    mainFields: ["module", "main"],
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    logLevel: "warning",
  });
  writeFileSync(path.join(outdir, "README"), "restorable drill agent bundle\n");
}
