import { CreateStateMachineCommand, ListStateMachinesCommand, type SFNClient } from "@aws-sdk/client-sfn";
import { App, Stack } from "aws-cdk-lib";
import { STUB_FUNCTION_CODE_CONTEXT } from "../../infra/constructs/restorable-function";
import { RestorableStack } from "../../infra/restorable-stack";
import type { Deployment } from "../../shared/contracts/deployment";

/** The emulator's account: what moto answers for every ARN. */
const EMULATOR_ACCOUNT = "123456789012";

/**
 * The drill state machine exactly as the CDK stack synthesizes it, with the stack's references (its queue,
 * launch template, subnet, partition, region, account) resolved to the local stack's resources. The local
 * stack and the tests run this definition, not a copy of it, so what is tested is what deploys.
 */
export function synthesizedDrillDefinition(deployment: Deployment): string {
  const app = new App({ context: { [STUB_FUNCTION_CODE_CONTEXT]: true } });
  const stack = new RestorableStack(app, "Restorable");
  const template = app.synth().getStackByName(stack.stackName).template as {
    Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  };
  const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
    Stack.of(stack).getLogicalId(construct.node.defaultChild as never);
  const values = new Map<string, string>([
    [logicalId(stack.drills.queue), required(deployment.drillQueueUrl, "drill queue")],
    [logicalId(stack.drills.launchTemplate), required(deployment.drillLaunchTemplateId, "drill launch template")],
    [logicalId(stack.drills.pruneLaunchTemplate), required(deployment.pruneLaunchTemplateId, "prune launch template")],
    [logicalId(stack.drills.subnet as never), required(deployment.drillSubnetId, "drill subnet")],
    ["AWS::Partition", "aws"],
    ["AWS::Region", deployment.region],
    ["AWS::AccountId", EMULATOR_ACCOUNT],
    ["AWS::URLSuffix", "amazonaws.com"],
  ]);
  const machine = template.Resources[logicalId(stack.drills.stateMachine)];
  return String(resolve(machine?.Properties?.DefinitionString, values));
}

/** Creates (or finds) the drill state machine in the emulator; returns its ARN. */
export async function provisionDrillStateMachine(
  sfn: SFNClient,
  name: string,
  deployment: Deployment,
): Promise<string> {
  await enableExecution(sfn);
  const listed = await sfn.send(new ListStateMachinesCommand({}));
  const existing = listed.stateMachines?.find((machine) => machine.name === name)?.stateMachineArn;
  if (existing) return existing;
  const created = await sfn.send(
    new CreateStateMachineCommand({
      name,
      definition: synthesizedDrillDefinition(deployment),
      roleArn: `arn:aws:iam::${EMULATOR_ACCOUNT}:role/restorable-drills`,
    }),
  );
  return created.stateMachineArn as string;
}

function resolve(value: unknown, values: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) return value.map((item) => resolve(item, values));
  if (!value || typeof value !== "object") return value;
  const entries = Object.entries(value);
  const [name, argument] = entries[0] ?? [];
  if (entries.length === 1 && name === "Ref") return lookUp(String(argument), values);
  if (entries.length === 1 && name === "Fn::GetAtt") return lookUp(String((argument as string[])[0]), values);
  if (entries.length === 1 && name === "Fn::Join") {
    const [separator, parts] = argument as [string, unknown[]];
    return parts.map((part) => resolve(part, values)).join(separator);
  }
  if (name?.startsWith("Fn::")) throw new Error(`cannot resolve ${name} in the drill state machine's definition`);
  return Object.fromEntries(entries.map(([key, inner]) => [key, resolve(inner, values)]));
}

function lookUp(id: string, values: ReadonlyMap<string, string>): string {
  const value = values.get(id);
  if (value === undefined)
    throw new Error(`the drill state machine refers to ${id}, which the local stack does not have`);
  return value;
}

function required(value: string | undefined, what: string): string {
  if (!value) throw new Error(`the local deployment has no ${what}`);
  return value;
}

/**
 * moto only records state machines unless told to run them; its interpreter then calls moto back on
 * MOTO_PORT (set by startEmulator). Any other endpoint (LocalStack, AWS) runs them anyway.
 */
async function enableExecution(sfn: SFNClient): Promise<void> {
  const endpoint = await sfn.config.endpoint?.();
  // A client built without an endpoint takes it from the standard variables, as the SDK does.
  const base = endpoint
    ? `${endpoint.protocol}//${endpoint.hostname}${endpoint.port ? `:${endpoint.port}` : ""}`
    : (process.env.AWS_ENDPOINT_URL_SFN ?? process.env.AWS_ENDPOINT_URL)?.replace(/\/+$/, "");
  if (!base) return;
  const url = `${base}/moto-api/config`;
  await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ stepfunctions: { execute_state_machine: true } }),
  }).catch(() => undefined);
}
