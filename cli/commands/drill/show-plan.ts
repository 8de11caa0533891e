import type { Command } from "commander";
import { DEFAULT_DRILL_PLAN, nextDrillTime } from "../../../shared/drills/plan";
import { printJson } from "../../output/format";
import { servicesFor } from "../../services";

export function registerDrillShowPlan(drill: Command): void {
  drill
    .command("show-plan")
    .description("Show a source's drill plan (or the default) and when its next drill is due")
    .requiredOption("--source <name>", "the source")
    .option("--json", "print JSON for scripts")
    .action(showPlan);
}

async function showPlan(options: { source: string; json?: boolean }, command: Command): Promise<void> {
  const { catalog } = await servicesFor(command);
  const stored = await catalog.drills.getPlan(options.source);
  const plan = stored?.plan ?? DEFAULT_DRILL_PLAN;
  const next = nextDrillTime(plan, new Date())?.toISOString() ?? null;
  if (options.json) return printJson({ source: options.source, plan, default: !stored, nextDue: next });
  console.log(
    `# ${options.source}: ${stored ? "its own plan" : "no plan set, the default"}; next due: ${next ?? "never (no schedule)"}`,
  );
  const yaml = await import("yaml");
  const stringify = yaml.stringify ?? (yaml as unknown as { default: typeof yaml }).default.stringify;
  process.stdout.write(stringify(plan));
}
