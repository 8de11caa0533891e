import { App, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { beforeAll, describe, expect, it } from "vitest";
import { RestorableStack } from "../../infra/restorable-stack";
import { describeRules } from "../../shared/bucket-audit";
import { LIFECYCLE_RULES } from "../../shared/storage-policy";

let template: Template;
let app: App;

beforeAll(() => {
  app = new App();
  const stack = new RestorableStack(app, "Restorable");
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  template = Template.fromStack(stack);
});

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

  it("gives the indexer read access to backups and catalog writes, and nothing destructive", () => {
    const actions = actionsOf(statementsOfRoleFor("Indexes dump sets"));
    expect(actions).toEqual(
      expect.arrayContaining(["s3:GetObject", "s3:GetObjectTagging", "dynamodb:PutItem", "dynamodb:Query"]),
    );
    expect(
      actions.filter((action) => /Delete|Put(Object|Bucket)|\*$/.test(action) && !action.startsWith("sqs:")),
    ).toEqual([]);
    expect(actions).not.toContain("dynamodb:Scan");
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
    for (const description of ["Verifies restic", "Hands the indexer restic"]) {
      const actions = actionsOf(statementsOfRoleFor(description));
      expect(actions).toContain("s3:GetObject");
      expect(actions.filter((action) => /Delete|PutObject|secretsmanager/.test(action))).toEqual([]);
    }
    expect(actionsOf(statementsOfRoleFor("Hands the indexer restic"))).toContain("sqs:SendMessage");
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
      AbortIncompleteMultipartUpload?: { DaysAfterInitiation: number };
      Transitions?: { StorageClass: string; TransitionInDays: number }[];
      NoncurrentVersionExpiration?: { NoncurrentDays: number };
      ExpirationInDays?: number;
      ExpiredObjectDeleteMarker?: boolean;
    };
    const rules = (backups.Properties.LifecycleConfiguration.Rules as CfnRule[]).map((rule) => ({
      ID: rule.Id,
      Status: rule.Status as "Enabled",
      Filter: { Prefix: rule.Prefix ?? "" },
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
    expect(JSON.stringify(rules)).not.toMatch(/"Prefix":"restic\//);
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

describe("cdk-nag AwsSolutions", () => {
  it("finds nothing that is not acknowledged at its resource with a reason", () => {
    expect(() => app.synth()).not.toThrow();
  });
});
