import type { Command } from "commander";
import type { PlannedSource, RetentionDependencies } from "../../../shared/retention/apply";
import type { RetentionPolicy } from "../../../shared/retention/policy";
import { printJson } from "../../output/format";
import { printPlans } from "../../output/retention";
import { refuseBothScopes, retentionFor, type SourceScope, sourcesOf, warnIfNoBackups } from "./dependencies";
import { type PolicyFlags, policyFrom, refuseGroupBy, withPolicyFlags } from "./policy-flags";

interface PlanOptions extends PolicyFlags, SourceScope {
  safetyFloors: boolean;
  json?: boolean;
}

export function registerRetentionPlan(retention: Command): void {
  withPolicyFlags(
    retention
      .command("plan")
      .description(
        "Dry run: what retention would keep and remove, with reasons and the change since the last stored plan",
      )
      .option("--source <name>", "only this source")
      .option("--repo <name>", "only the sources of this restic repository")
      .option("--no-safety-floors", "show the bare policy, without the floors and the circuit breaker")
      .option("--json", "print JSON in the shape of restic forget --json"),
  ).action(plan);
}

async function plan(options: PlanOptions, command: Command): Promise<void> {
  refuseGroupBy(options);
  refuseBothScopes(command, options);
  const policy = await policyFrom(options);
  const services = await retentionFor(command);
  const sources = await sourcesOf(services, options);
  const planned = await planSources(services.deps, sources, policy, options.safetyFloors);
  if (options.source) await warnIfNoBackups(services, options.source, planned[0]?.entries.length ?? 0);
  if (options.json) return printJson(await asJson(planned));
  if (options.repo && planned.length === 0) return console.log(`No sources of repository ${options.repo} to plan.`);
  printPlans(planned);
}

/** Plans each source in turn, with the policy given on the command line (not stored) if any. */
async function planSources(
  deps: RetentionDependencies,
  sources: string[],
  policy: RetentionPolicy | undefined,
  safetyFloors: boolean,
): Promise<PlannedSource[]> {
  const { planFromCatalog } = await import("../../../shared/retention/apply");
  const overrides = { ...(policy ? { policy } : {}), ...(safetyFloors ? {} : { floors: false }) };
  const planned = [];
  for (const source of sources) planned.push(await planFromCatalog(source, deps, overrides));
  return planned;
}

/** restic forget --json's groups, with the plan's status, policy, floors and change since the stored plan. */
async function asJson(planned: PlannedSource[]): Promise<unknown[]> {
  const { asResticForgetGroup } = await import("../../../shared/retention/source-plan");
  return planned.map(({ plan, diff }) => ({
    ...asResticForgetGroup(plan),
    status: plan.status,
    refusal: plan.refusal,
    policy: plan.policy,
    floors: plan.floors,
    untouched: plan.untouched,
    diff,
  }));
}
