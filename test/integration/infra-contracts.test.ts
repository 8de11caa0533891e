import { existsSync, statSync } from "node:fs";
import * as path from "node:path";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { STUB_FUNCTION_CODE_CONTEXT } from "../../infra/constructs/restorable-function";
import { RestorableStack } from "../../infra/restorable-stack";
import { FUNCTIONS } from "../../shared/contracts/functions";
import { startTestStack } from "../support/stack";

describe("the CDK stack and the local stack", () => {
  it("give the ingest queue the same visibility timeout and redrive", async () => {
    const stack = await startTestStack("contracts");
    const attributes = await stack.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: stack.deployment.queueUrl, AttributeNames: ["All"] }),
    );
    const template = Template.fromStack(
      new RestorableStack(new App({ context: { [STUB_FUNCTION_CODE_CONTEXT]: true } }), "Restorable"),
    );
    const [queue] = Object.values(
      template.findResources("AWS::SQS::Queue", { Properties: { RedrivePolicy: {} } }),
    ).filter((resource) => resource.Properties.RedrivePolicy);
    expect(Number(attributes.Attributes?.VisibilityTimeout)).toBe(queue?.Properties.VisibilityTimeout);
    expect(JSON.parse(attributes.Attributes?.RedrivePolicy ?? "{}").maxReceiveCount).toBe(
      queue?.Properties.RedrivePolicy.maxReceiveCount,
    );
    expect(Number(attributes.Attributes?.MessageRetentionPeriod)).toBe(queue?.Properties.MessageRetentionPeriod);
  });
});

describe("synthesis with real bundling", () => {
  it("bundles every function with the local esbuild, offline, without Docker", () => {
    const app = new App();
    const stack = new RestorableStack(app, "Restorable");
    const assembly = app.synth();
    const template = Template.fromStack(stack);
    const functions = Object.values(template.findResources("AWS::Lambda::Function")).filter((fn) =>
      Object.values(FUNCTIONS).some((contract) => contract.description === fn.Properties.Description),
    );
    expect(functions).toHaveLength(Object.keys(FUNCTIONS).length);
    for (const fn of functions) {
      const assetHash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, "");
      const bundle = path.join(assembly.directory, `asset.${assetHash}`, "index.js");
      expect(existsSync(bundle), `${fn.Properties.Description}: ${bundle}`).toBe(true);
      expect(statSync(bundle).size).toBeGreaterThan(10_000);
    }
  }, 240_000);
});
