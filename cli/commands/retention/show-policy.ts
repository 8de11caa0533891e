import type { Command } from "commander";
import { printJson } from "../../output/format";
import { printPolicy, type ShownPolicy, warnNoBackups } from "../../output/retention";
import { retentionFor } from "./dependencies";

export function registerRetentionShowPolicy(retention: Command): void {
  retention
    .command("show-policy")
    .description("Show the retention that applies to a source, and where it comes from")
    .requiredOption("--source <name>", "the source")
    .option("--json", "print JSON for scripts")
    .action(showPolicy);
}

async function showPolicy(options: { source: string; json?: boolean }, command: Command): Promise<void> {
  const shown = await policyOf(options.source, command);
  if (shown.entries.length === 0) warnNoBackups(options.source);
  const { plan, origin, policyFlags } = shown;
  const policy = plan.status === "NO_POLICY" ? null : plan.policy;
  if (options.json) return printJson({ source: plan.source, policy, policyFlags, origin, floors: plan.floors });
  printPolicy(shown);
}

/** The policy that applies to the source (from its plan: NO_POLICY means none), as restic flags. */
async function policyOf(source: string, command: Command): Promise<ShownPolicy> {
  const deps = await retentionFor(command);
  const { planFromCatalog } = await import("../../../shared/retention/apply");
  const { resticFlagsOf } = await import("../../../shared/retention/policy");
  const { plan, origin, entries } = await planFromCatalog(source, deps);
  const policyFlags = plan.status === "NO_POLICY" ? [] : resticFlagsOf(plan.policy);
  return { plan, origin, entries, policyFlags };
}
