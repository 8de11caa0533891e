import type { Command } from "commander";
import type { StoredPlan } from "../../../shared/retention/apply";
import { printJson } from "../../output/format";
import { printApplied } from "../../output/retention";
import { checkSourceHasBackups, refuseBothScopes, retentionFor, type SourceScope, sourcesOf } from "./dependencies";

export function registerRetentionApply(retention: Command): void {
  retention
    .command("apply")
    .description(
      "Apply retention now (what the daily Lambda does): remove dump sets, forget restic snapshots, store the plan",
    )
    .option("--source <name>", "only this source")
    .option("--repo <name>", "only the sources of this restic repository")
    .option("--json", "print JSON for scripts")
    .action(apply);
}

async function apply(options: SourceScope & { json?: boolean }, command: Command): Promise<void> {
  refuseBothScopes(command, options);
  const services = await retentionFor(command);
  const { applyRetention } = await import("../../../shared/retention/apply");
  if (options.source) await checkSourceHasBackups(services, options.source);
  const applied: StoredPlan[] = [];
  for (const source of await sourcesOf(services, options)) applied.push(await applyRetention(source, services.deps));
  if (options.json) return printJson({ applied });
  printApplied(applied);
  // A refused run, or removals postponed to the next run, need a person's attention (--json leaves it to the reader).
  if (applied.some((plan) => plan.status === "REFUSED" || plan.outcome.postponed.length > 0)) process.exitCode = 1;
}
