import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { InvalidInputError } from "../../../shared/errors";
import { printJson } from "../../output/format";
import { servicesFor } from "../../services";

export function registerDrillSetPlan(drill: Command): void {
  drill
    .command("set-plan")
    .description("Set a source's drill plan from a YAML or JSON file: schedule, backup selection, instance, checks")
    .requiredOption("--source <name>", "the source")
    .requiredOption("--file <file>", "the plan, YAML or JSON (README: 'Drill plans')")
    .option("--json", "print JSON for scripts")
    .action(setPlan);
}

async function setPlan(options: { source: string; file: string; json?: boolean }, command: Command): Promise<void> {
  const plan = await readPlanFile(options.file);
  const { catalog } = await servicesFor(command);
  await catalog.drills.putPlan(options.source, plan);
  if (options.json) return printJson({ source: options.source, plan });
  const when = plan.schedule ? `${plan.schedule.cron} (${plan.schedule.timeZone})` : "on demand only";
  console.log(
    `Set the drill plan of ${options.source}: ${when}. Try it now: restorable drill run --source ${options.source} --wait`,
  );
}

async function readPlanFile(file: string) {
  // The bundle sees yaml as CommonJS: its functions may sit on the default export.
  const yaml = await import("yaml");
  const parse = yaml.parse ?? (yaml as unknown as { default: typeof yaml }).default.parse;
  const { DrillPlanSchema } = await import("../../../shared/drills/plan");
  const { parseWith } = await import("../../../shared/validation");
  let text: string;
  try {
    text = await readFile(file, "utf-8");
  } catch (error) {
    throw new InvalidInputError("unreadable-plan", `cannot read the plan file ${file}`, { cause: error });
  }
  let document: unknown;
  try {
    // YAML is a superset of JSON: one parser reads both.
    document = parse(text) ?? {};
  } catch (error) {
    throw new InvalidInputError("invalid-plan", `${file} is neither YAML nor JSON: ${(error as Error).message}`);
  }
  return parseWith(DrillPlanSchema, document, `drill plan ${file}`);
}
