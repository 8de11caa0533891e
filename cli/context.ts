import { type Command, InvalidArgumentError } from "commander";
import type { Deployment } from "../shared/contracts/deployment";
import type { GroupByField } from "../shared/restic/repository";
import { type DeploymentFlags, resolveDeployment, useDeployment } from "./deployment";

/** The exit code of a command line that cannot work as given (commander's own errors and ours). */
export const USAGE_EXIT_CODE = 2;

/** Resolves the deployment from the command's global flags and points the SDK at it. */
export async function deploymentFor(command: Command): Promise<Deployment> {
  const flags = command.optsWithGlobals<DeploymentFlags>();
  const { deployment } = await resolveDeployment(flags);
  useDeployment(deployment);
  return deployment;
}

/**
 * Refuses the command line as commander refuses its own usage errors: the message, the command's help
 * (the program shows help after errors), exit code 2. Never returns.
 */
export function usageError(command: Command, message: string): never {
  return command.error(`error: ${message}`, { exitCode: USAGE_EXIT_CODE, code: "restorable.usage" });
}

export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError("expected a positive whole number");
  return parsed;
}

/**
 * Accumulates a repeatable option. Declare it without a default (help would show `(default: [])`): an
 * option never given stays undefined, which {@link listOf} reads as empty.
 */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Tags are `key:value` as in restic's workspace tags, or a plain word. */
export function tagArgument(value: string, previous: string[] | undefined): string[] {
  if (!/^[^\s,]{1,255}$/.test(value))
    throw new InvalidArgumentError("a tag is one word such as env:prod, without spaces or commas");
  return [...(previous ?? []), value];
}

/** A repeatable option's values; none when it was not given. */
export function listOf(values: string[] | undefined): string[] {
  return values ?? [];
}

/** restic's --group-by fields, comma-separated; '' groups nothing. */
export function groupByArgument(value: string): GroupByField[] {
  const fields = value === "" ? [] : value.split(",").map((field) => field.trim());
  for (const field of fields) {
    if (!["host", "paths", "tags"].includes(field))
      throw new InvalidArgumentError("group by host, paths and/or tags, comma-separated");
  }
  return fields as GroupByField[];
}
