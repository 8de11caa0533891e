import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import {
  DEFAULT_STACK_NAME,
  type Deployment,
  DeploymentSchema,
  LocalStackFileSchema,
  STACK_OUTPUTS,
} from "../shared/contracts/deployment";
import { ConfigurationError, describeError } from "../shared/errors";
import { parseJsonWith } from "../shared/validation";

export const LOCAL_STACK_FILE = path.join(".restorable", "local.json");

export interface DeploymentFlags {
  bucket?: string;
  table?: string;
  region?: string;
  endpoint?: string;
  stack?: string;
}

type Partial_ = Partial<Deployment>;

export interface ResolvedDeployment {
  deployment: Deployment;
  /** Where each value came from, for `restorable where` and error messages. */
  origin: string;
}

/**
 * Finds the deployment to talk to, field by field: flags, then RESTORABLE_* environment variables,
 * then the local stack's .restorable/local.json (searched upwards from the working directory), then
 * a CloudFormation stack's outputs (--stack, RESTORABLE_STACK, or the default stack name).
 */
export async function resolveDeployment(
  flags: DeploymentFlags,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): Promise<ResolvedDeployment> {
  const layers: { origin: string; values: Partial_ }[] = [];
  const stackName = flags.stack ?? env.RESTORABLE_STACK;
  layers.push({
    origin: "flags",
    values: compact({ bucket: flags.bucket, table: flags.table, region: flags.region, endpoint: flags.endpoint }),
  });
  if (flags.stack) {
    layers.push({
      origin: `stack ${flags.stack}`,
      values: await stackOutputs(flags.stack, flags.region ?? env.AWS_REGION),
    });
  }
  layers.push({
    origin: "RESTORABLE_* environment",
    values: compact({
      bucket: env.RESTORABLE_BUCKET,
      table: env.RESTORABLE_TABLE,
      region: env.RESTORABLE_REGION,
      endpoint: env.RESTORABLE_ENDPOINT,
      queueUrl: env.RESTORABLE_QUEUE_URL,
      deadLetterQueueUrl: env.RESTORABLE_DEAD_LETTER_QUEUE_URL,
      masterKeySecret: env.RESTORABLE_MASTER_KEY_SECRET,
      drillStateMachineArn: env.RESTORABLE_DRILL_STATE_MACHINE,
    }),
  });
  if (!flags.stack) {
    const localFile = findUpwards(LOCAL_STACK_FILE, cwd);
    if (localFile) layers.push({ origin: localFile, values: readLocalStackFile(localFile) });
  }

  let merged = merge(layers.map((layer) => layer.values));
  if ((!merged.bucket || !merged.table) && !flags.stack) {
    const name = stackName ?? DEFAULT_STACK_NAME;
    try {
      const values = await stackOutputs(name, merged.region ?? env.AWS_REGION);
      layers.push({ origin: `stack ${name}`, values });
      merged = merge(layers.map((layer) => layer.values));
    } catch (error) {
      throw new ConfigurationError(
        "no-deployment",
        "cannot tell which restorable deployment to use: pass --bucket and --table, set RESTORABLE_BUCKET and " +
          "RESTORABLE_TABLE, run `npm start` for a local stack, or deploy the CDK stack and pass --stack <name> " +
          `(looking up stack ${name} failed: ${describeError(error)})`,
        { cause: error },
      );
    }
  }
  merged.region ??= env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const parsed = DeploymentSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigurationError(
      "incomplete-deployment",
      `deployment is incomplete (${parsed.error.issues.map((i) => i.path.join(".")).join(", ")} missing); ` +
        "pass --bucket, --table and --region, or set RESTORABLE_BUCKET, RESTORABLE_TABLE and AWS_REGION",
    );
  }
  const origin = layers
    .filter((layer) => Object.keys(layer.values).length > 0)
    .map((layer) => layer.origin)
    .join(", ");
  return { deployment: parsed.data, origin };
}

/**
 * Points the AWS SDK at the deployment through the standard variables only, so that product code
 * never knows whether it talks to AWS, LocalStack or the local emulator.
 */
export function useDeployment(deployment: Deployment, env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_REGION = deployment.region;
  if (deployment.endpoint) {
    env.AWS_ENDPOINT_URL = deployment.endpoint;
    // The local emulator accepts any credentials; real endpoints get whatever the user configured.
    if (!env.AWS_ACCESS_KEY_ID && !env.AWS_PROFILE) {
      env.AWS_ACCESS_KEY_ID = "restorable-local";
      env.AWS_SECRET_ACCESS_KEY = "restorable-local";
    }
  }
}

function readLocalStackFile(file: string): Partial_ {
  const local = parseJsonWith(LocalStackFileSchema, readFileSync(file, "utf-8"), `local stack file ${file}`);
  return {
    bucket: local.bucket,
    table: local.table,
    region: local.region,
    endpoint: local.endpoint,
    queueUrl: local.queueUrl,
    deadLetterQueueUrl: local.deadLetterQueueUrl,
    encryption: local.encryption,
    masterKeySecret: local.masterKeySecret,
    drillStateMachineArn: local.drillStateMachineArn,
  };
}

async function stackOutputs(stackName: string, region: string | undefined): Promise<Partial_> {
  const { CloudFormationClient, DescribeStacksCommand } = await import("./sdk/cloudformation");
  const client = new CloudFormationClient(region ? { region } : {});
  const result = await client.send(new DescribeStacksCommand({ StackName: stackName }));
  const outputs = new Map((result.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
  const stackRegion = result.Stacks?.[0]?.StackId?.split(":")[3];
  return compact({
    bucket: outputs.get(STACK_OUTPUTS.bucket),
    table: outputs.get(STACK_OUTPUTS.table),
    queueUrl: outputs.get(STACK_OUTPUTS.queue),
    deadLetterQueueUrl: outputs.get(STACK_OUTPUTS.deadLetterQueue),
    encryption: outputs.get(STACK_OUTPUTS.encryption),
    masterKeySecret: outputs.get(STACK_OUTPUTS.masterKeySecret),
    drillStateMachineArn: outputs.get(STACK_OUTPUTS.drillStateMachine),
    region: stackRegion ?? region,
  });
}

function findUpwards(relative: string, from: string): string | undefined {
  let directory = path.resolve(from);
  for (;;) {
    const candidate = path.join(directory, relative);
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}

function merge(layers: Partial_[]): Partial_ {
  const merged: Partial_ = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer) as [keyof Deployment, string][]) {
      if (merged[key] === undefined) merged[key] = value;
    }
  }
  return merged;
}

function compact(values: Record<string, string | undefined>): Partial_ {
  return Object.fromEntries(
    Object.entries(values).filter(([, value]) => value !== undefined && value !== ""),
  ) as Partial_;
}
