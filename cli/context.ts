import { type Command, InvalidArgumentError } from "commander";
import type { Deployment } from "../shared/contracts/deployment";
import { type DeploymentFlags, resolveDeployment, useDeployment } from "./deployment";

/** Resolves the deployment from the command's global flags and points the SDK at it. */
export async function deploymentFor(command: Command): Promise<Deployment> {
  const flags = command.optsWithGlobals<DeploymentFlags>();
  const { deployment } = await resolveDeployment(flags);
  useDeployment(deployment);
  return deployment;
}

export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError("expected a positive whole number");
  return parsed;
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Tags are `key:value` as in restic's workspace tags, or a plain word. */
export function tagArgument(value: string, previous: string[]): string[] {
  if (!/^[^\s,]{1,255}$/.test(value))
    throw new InvalidArgumentError("a tag is one word such as env:prod, without spaces or commas");
  return [...previous, value];
}
