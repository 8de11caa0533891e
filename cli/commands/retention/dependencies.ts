import type { Command } from "commander";
import type { RetentionDependencies } from "../../../shared/retention/apply";
import { deploymentFor } from "../../context";

/** The same retention dependencies the scheduled Lambda uses, with the operator's credentials. */
export async function retentionFor(command: Command): Promise<RetentionDependencies> {
  const deployment = await deploymentFor(command);
  const { operatorRetention } = await import("../../operator/retention");
  return operatorRetention(deployment);
}

/** The source given, or every source in the catalog. */
export async function sourcesOf(deps: RetentionDependencies, source: string | undefined): Promise<string[]> {
  return source ? [source] : (await deps.catalog.listSources()).map((s) => s.source);
}
