import type { Command } from "commander";
import { registerBucketAudit } from "./audit";

export function registerBucketCommands(program: Command): void {
  const bucket = program.command("bucket").description("The backup bucket's own settings");
  registerBucketAudit(bucket);
}
