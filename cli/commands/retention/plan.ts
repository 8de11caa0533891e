import type { Command } from "commander";
import type { PlannedSource, RetentionDependencies } from "../../../shared/retention/apply";
import type { RetentionPolicy } from "../../../shared/retention/policy";
import { printJson } from "../../output/format";
import { printPlans, warnNoBackups } from "../../output/retention";
import { retentionFor, sourcesOf } from "./dependencies";
import { type PolicyFlags, policyFrom, refuseGroupBy, withPolicyFlags } from "./policy-flags";

interface PlanOptions extends PolicyFlags {
  source?: string;
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
      .option("--no-safety-floors", "show the bare policy, without the floors and the circuit breaker")
      .option("--json", "print JSON in the shape of restic forget --json"),
  ).action(plan);
}

async function plan(options: PlanOptions, command: Command): Promise<void> {
  refuseGroupBy(options);
  const policy = await policyFrom(options);
  const deps = await retentionFor(command);
  const planned = await planSources(deps, await sourcesOf(deps, options.source), policy, options.safetyFloors);
  if (options.source && planned[0]?.entries.length === 0) warnNoBackups(options.source);
  if (options.json) return printJson(await asJson(planned));
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
