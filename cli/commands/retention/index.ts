import type { Command } from "commander";
import { registerRetentionApply } from "./apply";
import { registerRetentionPlan } from "./plan";
import { registerRetentionSetPolicy } from "./set-policy";
import { registerRetentionShowPolicy } from "./show-policy";
import { registerRetentionUnsetPolicy } from "./unset-policy";

export function registerRetentionCommands(program: Command): void {
  const retention = program
    .command("retention")
    .description("Retention: restic forget semantics with safety floors, applied from the cloud side");
  registerRetentionPlan(retention);
  registerRetentionApply(retention);
  registerRetentionSetPolicy(retention);
  registerRetentionUnsetPolicy(retention);
  registerRetentionShowPolicy(retention);
}
