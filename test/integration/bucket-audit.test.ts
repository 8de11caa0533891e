import {
  DeleteBucketLifecycleCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketVersioningCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
} from "@aws-sdk/client-s3";
import { beforeAll, describe, expect, it } from "vitest";
import type { AuditReport } from "../../shared/bucket/audit";
import { describeRules } from "../../shared/bucket/audit";
import { DynamoAlertStore } from "../../shared/catalog/dynamo/alert-store";
import { LIFECYCLE_RULES } from "../../shared/contracts/storage-policy";
import { startTestStack, type TestStack } from "../support/stack";

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack("audit");
});

describe("the bucket audit", () => {
  it("finds nothing to do on a bucket set up as intended", async () => {
    const report = (await stack.runScheduled("bucketAudit")) as AuditReport;
    expect(report.drift).toEqual([]);
  });

  it("puts back lifecycle rules, versioning and public access that someone changed, and raises an alert", async () => {
    const Bucket = stack.deployment.bucket;
    await stack.s3.send(new DeleteBucketLifecycleCommand({ Bucket }));
    await stack.s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: "Suspended" } }));
    await stack.s3.send(
      new PutPublicAccessBlockCommand({
        Bucket,
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: false,
          IgnorePublicAcls: true,
          BlockPublicPolicy: true,
          RestrictPublicBuckets: true,
        },
      }),
    );

    const report = (await stack.runScheduled("bucketAudit")) as AuditReport;

    expect(report.drift.map((d) => [d.setting, d.repaired])).toEqual([
      ["versioning", true],
      ["public-access-block", true],
      ["lifecycle", true],
    ]);
    expect((await stack.s3.send(new GetBucketVersioningCommand({ Bucket }))).Status).toBe("Enabled");
    const rules = (await stack.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket }))).Rules ?? [];
    expect(describeRules(rules)).toBe(describeRules(LIFECYCLE_RULES));
    const alerts = await new DynamoAlertStore(stack.dynamo, stack.deployment.table).recent();
    expect(alerts[0]).toMatchObject({ kind: "bucket-drift", subject: Bucket });

    const after = await stack.cli(["bucket", "audit"]);
    expect(after.stdout).toContain("every setting is as intended");
  });
});
