import { App, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { beforeAll, describe, expect, it } from "vitest";
import { localSettingValues } from "../../cli/local/handlers";
import { STUB_FUNCTION_CODE_CONTEXT } from "../../infra/constructs/restorable-function";
import { RestorableStack } from "../../infra/restorable-stack";
import { describeRules } from "../../shared/bucket/audit";
import { environmentFor, FUNCTIONS, type FunctionName } from "../../shared/contracts/functions";
import { INGEST_QUEUE } from "../../shared/contracts/ingest";
import { LIFECYCLE_RULES } from "../../shared/contracts/storage-policy";

let template: Template;
let app: App;

// Functions get stub code here, so synthesis takes seconds; test/integration/infra-bundling.test.ts bundles.
const SYNTH_TIMEOUT_MS = 30_000;
const stubbedApp = () => new App({ context: { [STUB_FUNCTION_CODE_CONTEXT]: true } });

beforeAll(() => {
  app = stubbedApp();
  const stack = new RestorableStack(app, "Restorable");
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  template = Template.fromStack(stack);
}, SYNTH_TIMEOUT_MS);

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

function statementsOfRoleFor(functionDescription: string): Statement[] {
  const functions = template.findResources("AWS::Lambda::Function", {
    Properties: { Description: Match.stringLikeRegexp(functionDescription) },
  });
  const [fn] = Object.values(functions);
  if (!fn) throw new Error(`no function described as ${functionDescription}`);
  const roleId = (fn.Properties.Role as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
  const policies = template.findResources("AWS::IAM::Policy", {
    Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) },
  });
  return Object.values(policies).flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

const actionsOf = (statements: Statement[]) =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

describe("the backup bucket", () => {
  it("is versioned, encrypted, private, and logs access", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      VersioningConfiguration: { Status: "Enabled" },
      BucketEncryption: { ServerSideEncryptionConfiguration: Match.anyValue() },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: "backups/" }),
    });
  });

  it("refuses requests without TLS", () => {
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      },
    });
  });

  it("outlives the stack", () => {
    template.hasResource("AWS::S3::Bucket", { DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" });
  });
});

describe("the catalog table", () => {
  it("is on-demand, recoverable to a point in time, retained and deletion-protected", () => {
    template.hasResource("AWS::DynamoDB::GlobalTable", {
      DeletionPolicy: "Retain",
      Properties: Match.objectLike({
        BillingMode: "PAY_PER_REQUEST",
        Replicas: [
          Match.objectLike({
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
            DeletionProtectionEnabled: true,
          }),
        ],
        GlobalSecondaryIndexes: [
          Match.objectLike({ IndexName: "timeline" }),
          Match.objectLike({ IndexName: "sources" }),
        ],
      }),
    });
  });
});

describe("function contracts", () => {
  const localDeployment = {
    region: "us-east-1",
    bucket: "b",
    table: "t",
    queueUrl: "http://127.0.0.1/q",
    deadLetterQueueUrl: "http://127.0.0.1/dlq",
    encryption: "AES256",
  };

  it.each(Object.keys(FUNCTIONS) as FunctionName[])(
    "gives %s the environment the local stack gives it, from its contract",
    (name) => {
      const contract = FUNCTIONS[name];
      const functions = template.findResources("AWS::Lambda::Function", {
        Properties: { Description: contract.description },
      });
      expect(Object.keys(functions)).toHaveLength(1);
      const [fn] = Object.values(functions);
      const variables = Object.keys(fn?.Properties.Environment.Variables ?? {}).filter(
        (variable) => !/^(NODE_OPTIONS|POWERTOOLS_)/.test(variable),
      );
      const local = environmentFor(contract, localSettingValues(localDeployment)[name] as never);
      expect(variables.sort()).toEqual(Object.keys(local).sort());
      expect(fn?.Properties.Timeout).toBe(contract.timeoutSeconds);
      expect(fn?.Properties.MemorySize).toBe(contract.memoryMB);
    },
  );

  it("sizes the ingest queue's visibility timeout from the indexer's timeout", () => {
    template.hasResourceProperties("AWS::SQS::Queue", {
      VisibilityTimeout: INGEST_QUEUE.visibilityTimeoutSeconds,
      RedrivePolicy: Match.anyValue(),
    });
    expect(INGEST_QUEUE.visibilityTimeoutSeconds).toBe(FUNCTIONS.indexer.timeoutSeconds * 6);
  });
});

describe("ingest", () => {
  it("sends bucket events to a queue with a dead-letter queue", () => {
    template.hasResourceProperties("AWS::SQS::Queue", {
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 5 },
    });
    template.hasResourceProperties("Custom::S3BucketNotifications", {
      NotificationConfiguration: {
        QueueConfigurations: Match.arrayWith([
          Match.objectLike({
            Events: ["s3:ObjectCreated:*"],
            Filter: { Key: { FilterRules: [{ Name: "prefix", Value: "sets/" }] } },
          }),
        ]),
      },
    });
  });

  it("reports failed messages one by one", () => {
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      BatchSize: 10,
    });
  });

  it("gives the indexer read access and catalog writes; it writes sets (committing, putting history back), deletes only commit requests, and never a version", () => {
    const statements = statementsOfRoleFor("Indexes dump sets");
    const actions = actionsOf(statements);
    expect(actions).toEqual(
      expect.arrayContaining(["s3:GetObject", "s3:GetObjectTagging", "dynamodb:PutItem", "dynamodb:Query"]),
    );
    const resourcesFor = (action: string) =>
      JSON.stringify(statements.filter((s) => actionsOf([s]).includes(action)).map((s) => s.Resource));
    expect(resourcesFor("s3:PutObject")).toMatch(/\/sets\/\*\/restorable\.manifest\.json"/);
    expect(resourcesFor("s3:PutObject")).toMatch(/\/sets\/\*"/);
    expect(resourcesFor("s3:PutObject")).toMatch(/\/restic\/\*"/);
    expect(resourcesFor("s3:PutObjectVersionTagging")).toMatch(/\/sets\/\*"/);
    expect(resourcesFor("s3:DeleteObject")).toMatch(/\/incoming\/\*"/);
    expect(resourcesFor("s3:DeleteObject")).not.toMatch(/\/(sets|restic)\//);
    expect(actions.filter((action) => /^s3:.*\*$|DeleteObjectVersion|PutBucket|PutLifecycle/.test(action))).toEqual([]);
    expect(actions).not.toContain("dynamodb:Scan");
    expect(actions).not.toContain("dynamodb:DeleteItem");
  });
});

describe("restic repositories", () => {
  it("lets the indexer read only this deployment's repository passwords", () => {
    const secrets = statementsOfRoleFor("Indexes dump sets").filter((s) =>
      actionsOf([s]).includes("secretsmanager:GetSecretValue"),
    );
    expect(secrets).toHaveLength(1);
    expect(JSON.stringify(secrets[0]?.Resource)).toMatch(
      /:secret:restorable\/",\{"Ref":"StorageBackups[0-9A-F]+"\},"\/restic\/\*"/,
    );
  });

  it("verifies and reconciles on schedules, reading without deleting", () => {
    template.hasResourceProperties("AWS::Events::Rule", { ScheduleExpression: "rate(1 day)" });
    template.hasResourceProperties("AWS::Events::Rule", { ScheduleExpression: "rate(1 hour)" });
    for (const description of ["Verifies restic", "Hands the indexer dump sets"]) {
      const actions = actionsOf(statementsOfRoleFor(description));
      expect(actions).toContain("s3:GetObject");
      expect(actions.filter((action) => /Delete|PutObject|secretsmanager/.test(action))).toEqual([]);
    }
    expect(actionsOf(statementsOfRoleFor("Hands the indexer dump sets"))).toContain("sqs:SendMessage");
  });
});

describe("retention and lifecycle", () => {
  it("builds the bucket's lifecycle from the same rules the audit expects", () => {
    const buckets = template.findResources("AWS::S3::Bucket", {
      Properties: { VersioningConfiguration: { Status: "Enabled" } },
    });
    const [backups] = Object.values(buckets);
    if (!backups) throw new Error("no versioned bucket in the template");
    type CfnRule = {
      Id: string;
      Status: string;
      Prefix?: string;
      TagFilters?: { Key: string; Value: string }[];
      AbortIncompleteMultipartUpload?: { DaysAfterInitiation: number };
      Transitions?: { StorageClass: string; TransitionInDays: number }[];
      NoncurrentVersionExpiration?: { NoncurrentDays: number };
      ExpirationInDays?: number;
      ExpiredObjectDeleteMarker?: boolean;
    };
    const rules = (backups.Properties.LifecycleConfiguration.Rules as CfnRule[]).map((rule) => ({
      ID: rule.Id,
      Status: rule.Status as "Enabled",
      Filter: rule.TagFilters
        ? { And: { Prefix: rule.Prefix ?? "", Tags: rule.TagFilters } }
        : { Prefix: rule.Prefix ?? "" },
      AbortIncompleteMultipartUpload: rule.AbortIncompleteMultipartUpload,
      Transitions: rule.Transitions?.map((t) => ({
        Days: t.TransitionInDays,
        StorageClass: t.StorageClass as "STANDARD_IA",
      })),
      NoncurrentVersionExpiration: rule.NoncurrentVersionExpiration,
      Expiration:
        rule.ExpirationInDays || rule.ExpiredObjectDeleteMarker
          ? { Days: rule.ExpirationInDays, ExpiredObjectDeleteMarker: rule.ExpiredObjectDeleteMarker }
          : undefined,
    }));
    expect(describeRules(rules)).toBe(describeRules(LIFECYCLE_RULES));
    // restic reads its packs on every run: nothing under restic/ ever changes storage class.
    expect(rules.filter((rule) => rule.Transitions && !rule.Filter.And && rule.Filter.Prefix !== "sets/")).toEqual([]);
    // Under sets/, only versions released on purpose expire: versions a kept set pins never do.
    const setRules = rules.filter(
      (rule) => rule.NoncurrentVersionExpiration && JSON.stringify(rule.Filter).includes("sets/"),
    );
    expect(setRules.map((rule) => rule.Filter)).toEqual([
      { And: { Prefix: "sets/", Tags: [{ Key: "restorable-release", Value: "expire" }] } },
    ]);
    expect(rules.filter((rule) => rule.NoncurrentVersionExpiration && rule.Filter.Prefix === "")).toEqual([]);
  });

  it("lets retention delete only dump sets, restic snapshot files and its own restic locks", () => {
    const statements = statementsOfRoleFor("Applies the retention policies");
    const deletes = statements.filter((s) => actionsOf([s]).includes("s3:DeleteObject"));
    expect(deletes).toHaveLength(1);
    const resources = JSON.stringify(deletes[0]?.Resource);
    for (const pattern of ["/sets/*", "/restic/*/snapshots/*", "/restic/*/locks/*"])
      expect(resources).toContain(pattern);
    expect(resources).not.toMatch(/\/restic\/\*"|\/data\//);
  });

  it("gives the bucket audit the bucket's settings and nothing of its objects", () => {
    const actions = actionsOf(statementsOfRoleFor("Audits the backup bucket"));
    expect(actions.filter((action) => action.startsWith("s3:")).sort()).toEqual(
      [
        "s3:GetBucketPolicy",
        "s3:GetBucketPublicAccessBlock",
        "s3:GetBucketVersioning",
        "s3:GetEncryptionConfiguration",
        "s3:GetLifecycleConfiguration",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutBucketVersioning",
        "s3:PutEncryptionConfiguration",
        "s3:PutLifecycleConfiguration",
      ].sort(),
    );
  });
});

describe("keys and least privilege", () => {
  it("encrypts the bucket with a customer key of its own that rotates, and keeps it", () => {
    template.hasResource("AWS::KMS::Key", {
      DeletionPolicy: "Retain",
      Properties: Match.objectLike({ EnableKeyRotation: true }),
    });
    template.hasResourceProperties("AWS::S3::Bucket", {
      VersioningConfiguration: { Status: "Enabled" },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: Match.anyValue() },
          }),
        ],
      },
    });
  });

  it("keeps the master key secret when the stack goes", () => {
    template.hasResource("AWS::SecretsManager::Secret", {
      DeletionPolicy: "Retain",
      Properties: Match.objectLike({ GenerateSecretString: Match.objectLike({ GenerateStringKey: "key" }) }),
    });
    template.hasOutput("MasterKeySecretName", {});
  });

  describe("with host sources, restic repositories, Object Lock and a replica region", () => {
    let variant: Template;
    let variantApp: App;

    beforeAll(() => {
      variantApp = stubbedApp();
      const stack = new RestorableStack(variantApp, "Variant", {
        hostSources: ["codebolt-prod"],
        resticRepositories: ["workspaces"],
        objectLock: { mode: "COMPLIANCE", days: 35 },
        masterKeyReplicaRegion: "eu-central-1",
      });
      Validations.of(variantApp).addPlugins(new AwsSolutionsChecks(variantApp));
      variant = Template.fromStack(stack);
    }, SYNTH_TIMEOUT_MS);

    function policyFor(description: string): Statement[] {
      const policies = variant.findResources("AWS::IAM::ManagedPolicy", { Properties: { Description: description } });
      const [policy] = Object.values(policies);
      if (!policy) throw new Error(`no managed policy "${description}"`);
      return policy.Properties.PolicyDocument.Statement as Statement[];
    }

    it("gives a dump-set host its own prefix to write, no deletes, and never a committed manifest", () => {
      const statements = policyFor("restorable host access for source codebolt-prod");
      const allowed = statements.filter((s) => s.Effect === "Allow");
      expect(actionsOf(allowed).filter((a) => /Delete|Bypass|PutBucket|Retention|LegalHold/.test(a))).toEqual([]);
      expect(JSON.stringify(allowed)).toContain("/sets/codebolt-prod/*");
      expect(JSON.stringify(allowed)).not.toMatch(/\/sets\/\*"/);
      const manifests = statements.find((s) => s.Effect === "Deny" && actionsOf([s]).includes("s3:PutObject"));
      expect(JSON.stringify(manifests?.Resource)).toContain("/sets/*/restorable.manifest.json");
    });

    it("lets a restic host delete nothing but its lock files", () => {
      const statements = policyFor("restorable host access for repository workspaces");
      const deletes = statements.filter((s) => s.Effect === "Allow" && actionsOf([s]).includes("s3:DeleteObject"));
      expect(JSON.stringify(deletes.map((s) => s.Resource))).toMatch(/\/restic\/workspaces\/locks\/\*"\]/);
    });

    it("turns on Object Lock with the default retention, and replicates the master key", () => {
      variant.hasResourceProperties("AWS::S3::Bucket", {
        ObjectLockEnabled: true,
        ObjectLockConfiguration: {
          ObjectLockEnabled: "Enabled",
          Rule: { DefaultRetention: { Mode: "COMPLIANCE", Days: 35 } },
        },
      });
      variant.hasResourceProperties("AWS::SecretsManager::Secret", { ReplicaRegions: [{ Region: "eu-central-1" }] });
    });

    it("stays cdk-nag clean", () => {
      expect(() => variantApp.synth()).not.toThrow();
    });
  });
});

describe("restore drills", () => {
  it("synthesizes the state machine, its schedules, janitor, launch template, roles and network", () => {
    template.resourceCountIs("AWS::StepFunctions::StateMachine", 1);
    template.hasResourceProperties("AWS::EC2::LaunchTemplate", {
      LaunchTemplateData: Match.objectLike({
        InstanceInitiatedShutdownBehavior: "terminate",
        MetadataOptions: Match.objectLike({ HttpTokens: "required" }),
      }),
    });
    template.hasResourceProperties("AWS::EC2::VPCEndpoint", { VpcEndpointType: "Gateway" });
    template.resourceCountIs("AWS::EC2::NatGateway", 0);
    template.hasResourceProperties("AWS::EC2::SecurityGroup", { SecurityGroupIngress: Match.absent() });
    for (const name of ["drillDispatcher", "drillJanitor"] as const) {
      expect(statementsOfRoleFor(FUNCTIONS[name].description).length).toBeGreaterThan(0);
    }
    template.hasResourceProperties("AWS::Events::Rule", { ScheduleExpression: "rate(15 minutes)" });
  });

  /** The statements of the EC2 instance role whose description matches. */
  const instanceRoleStatements = (description: RegExp): Statement[] => {
    const roles = template.findResources("AWS::IAM::Role", {
      Properties: {
        AssumeRolePolicyDocument: Match.objectLike({
          Statement: [Match.objectLike({ Principal: { Service: "ec2.amazonaws.com" } })],
        }),
      },
    });
    const roleId = Object.keys(roles).find((id) => description.test(roles[id]?.Properties.Description ?? ""));
    if (!roleId) throw new Error(`no instance role ${description}`);
    return Object.values(
      template.findResources("AWS::IAM::Policy", { Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) } }),
    ).flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
  };

  it("gives drill instances a role that reads restic repositories only: no set, no secret, no write", () => {
    const statements = instanceRoleStatements(/^Restore-drill instances/);
    const text = JSON.stringify(statements);
    expect(text).not.toMatch(/\/sets\//);
    expect(actionsOf(statements).filter((action) => /secretsmanager|Put|Delete/.test(action))).toEqual([]);
    expect(text).toMatch(/\/restic\/\*/);
  });

  it("lets only restic prune instances delete restic packs and indexes, and nothing else of restic", () => {
    const statements = instanceRoleStatements(/^restic prune instances/);
    const deletes = statements.filter((statement) => actionsOf([statement]).includes("s3:DeleteObject"));
    expect(deletes).toHaveLength(1);
    const resources = JSON.stringify(deletes[0]?.Resource);
    for (const folder of ["data", "index", "locks"]) expect(resources).toContain(`/restic/*/${folder}/*`);
    expect(resources).not.toMatch(/snapshots|keys|config|\/sets\//);
    expect(JSON.stringify(statements)).not.toMatch(/\/sets\/|secretsmanager/);
    // No other role of the stack may delete a pack or an index.
    const others = Object.values(template.findResources("AWS::IAM::Policy"))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[])
      .filter((statement) => !statements.includes(statement))
      .filter((statement) => actionsOf([statement]).some((action) => /^s3:(DeleteObject|\*)/.test(action)));
    expect(JSON.stringify(others.map((statement) => statement.Resource))).not.toMatch(/\/data\/|\/index\/|restic\/\*"/);
    // The state machine launches prune jobs from their own template, and may pass the prune role.
    const definition = JSON.stringify(template.findResources("AWS::StepFunctions::StateMachine"));
    expect(definition).toContain("LaunchPrune");
    expect(definition).toContain("PruneJob?");
  });

  it("lets the state machine terminate only instances tagged as drills", () => {
    const machines = template.findResources("AWS::StepFunctions::StateMachine");
    const [machine] = Object.values(machines);
    if (!machine) throw new Error("no state machine");
    const roleId = (machine.Properties.RoleArn as { "Fn::GetAtt": [string] })["Fn::GetAtt"][0];
    const statements = Object.values(
      template.findResources("AWS::IAM::Policy", { Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) } }),
    ).flatMap((policy) => policy.Properties.PolicyDocument.Statement as (Statement & { Condition?: unknown })[]);
    const terminate = statements.filter((statement) => actionsOf([statement]).includes("ec2:TerminateInstances"));
    expect(terminate).toHaveLength(1);
    expect(terminate[0]?.Condition).toEqual({ Null: { "ec2:ResourceTag/restorable:drill": "false" } });
  });
});

describe("alarms and alerts", () => {
  const alarms = () => Object.values(template.findResources("AWS::CloudWatch::Alarm"));
  const alarmOn = (metricName: string) => alarms().filter((alarm) => alarm.Properties.MetricName === metricName);

  it("raises an alarm when a dead-letter queue holds a message", () => {
    const dlq = alarmOn("ApproximateNumberOfMessagesVisible");
    expect(dlq).toHaveLength(2);
    for (const alarm of dlq) {
      expect(alarm.Properties).toMatchObject({
        Threshold: 0,
        ComparisonOperator: "GreaterThanThreshold",
        Statistic: "Maximum",
      });
    }
  });

  it("raises an alarm on any error of each Lambda", () => {
    const errors = alarmOn("Errors");
    expect(errors.length).toBe(Object.keys(FUNCTIONS).length);
    for (const alarm of errors)
      expect(alarm.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: "GreaterThanThreshold" });
  });

  it("raises an alarm when a scheduled Lambda did not run, treating silence as an alarm", () => {
    const scheduled = Object.values(FUNCTIONS).filter((contract) => contract.trigger.kind === "schedule");
    const didNotRun = alarmOn("Invocations");
    expect(didNotRun).toHaveLength(scheduled.length);
    for (const alarm of didNotRun) {
      expect(alarm.Properties).toMatchObject({
        Threshold: 1,
        ComparisonOperator: "LessThanThreshold",
        TreatMissingData: "breaching",
      });
    }
  });

  it("raises an alarm on failed drill executions, and when no drill passed for too long (a dead man's switch)", () => {
    expect(alarmOn("ExecutionsFailed")[0]?.Properties).toMatchObject({
      Threshold: 0,
      ComparisonOperator: "GreaterThanThreshold",
    });
    expect(alarmOn("OldestProofOfRestoreDays")[0]?.Properties).toMatchObject({
      Threshold: 35,
      ComparisonOperator: "GreaterThanThreshold",
      TreatMissingData: "breaching",
      Namespace: "Restorable",
      Dimensions: [{ Name: "service", Value: "drill-dispatcher" }],
    });
  });

  it("sends every alarm and every failed scheduled run to one encrypted topic the alarm bridge turns into alerts", () => {
    template.resourceCountIs("AWS::SNS::Topic", 1);
    template.hasResourceProperties("AWS::SNS::Topic", { KmsMasterKeyId: Match.anyValue() });
    for (const alarm of alarms()) expect(alarm.Properties.AlarmActions).toHaveLength(1);
    const destinations = template.findResources("AWS::Lambda::EventInvokeConfig");
    const scheduled = Object.values(FUNCTIONS).filter((contract) => contract.trigger.kind === "schedule");
    expect(Object.keys(destinations)).toHaveLength(scheduled.length);
    const topicId = Object.keys(template.findResources("AWS::SNS::Topic"))[0];
    for (const config of Object.values(destinations)) {
      expect(config.Properties.DestinationConfig.OnFailure.Destination).toEqual({ Ref: topicId });
    }
    template.hasResourceProperties("AWS::SNS::Subscription", { Protocol: "lambda", TopicArn: { Ref: topicId } });
    template.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
  });

  it("creates the Slack secret as a placeholder the notifier reads as 'not connected', kept when the stack goes", () => {
    template.hasResource("AWS::SecretsManager::Secret", {
      DeletionPolicy: "Retain",
      Properties: {
        Description: Match.stringLikeRegexp("Slack"),
        GenerateSecretString: { SecretStringTemplate: "{}", GenerateStringKey: "placeholder" },
      },
    });
  });
});

describe("cdk-nag AwsSolutions", () => {
  it("finds nothing that is not acknowledged at its resource with a reason", () => {
    expect(() => app.synth()).not.toThrow();
  });
});
