import type { Command } from "commander";
import { registerDrillAgent } from "./agent";
import { registerDrillList } from "./list";
import { registerDrillRun } from "./run";
import { registerDrillSetPlan } from "./set-plan";
import { registerDrillShow } from "./show";
import { registerDrillShowPlan } from "./show-plan";

export function registerDrillCommands(program: Command): void {
  const drill = program
    .command("drill")
    .description(
      "Restore drills: restore a backup on a throwaway instance, check it like the application would, destroy it",
    );
  registerDrillSetPlan(drill);
  registerDrillShowPlan(drill);
  registerDrillRun(drill);
  registerDrillList(drill);
  registerDrillShow(drill);
  registerDrillAgent(drill);
}
