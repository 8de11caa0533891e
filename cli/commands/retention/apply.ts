import type { Command } from "commander";
import type { StoredPlan } from "../../../shared/retention/apply";
import { printJson } from "../../output/format";
import { printApplied, warnNoBackups } from "../../output/retention";
import { retentionFor, sourcesOf } from "./dependencies";

export function registerRetentionApply(retention: Command): void {
  retention
    .command("apply")
    .description(
      "Apply retention now (what the daily Lambda does): remove dump sets, forget restic snapshots, store the plan",
    )
    .option("--source <name>", "only this source")
    .option("--json", "print JSON for scripts")
    .action(apply);
}

async function apply(options: { source?: string; json?: boolean }, command: Command): Promise<void> {
  const deps = await retentionFor(command);
  const { applyRetention } = await import("../../../shared/retention/apply");
  if (options.source && (await deps.catalog.listBySource(options.source, { limit: 1 })).length === 0) {
    warnNoBackups(options.source);
  }
  const applied: StoredPlan[] = [];
  for (const source of await sourcesOf(deps, options.source)) applied.push(await applyRetention(source, deps));
  if (options.json) return printJson({ applied });
  printApplied(applied);
  // A refused run, or removals postponed to the next run, need a person's attention (--json leaves it to the reader).
  if (applied.some((plan) => plan.status === "REFUSED" || plan.outcome.postponed.length > 0)) process.exitCode = 1;
}
