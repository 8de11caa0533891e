import type { Command } from "commander";
import { positiveInteger } from "../../context";
import { printDrills } from "../../output/drills";
import { printJson } from "../../output/format";
import { servicesFor } from "../../services";

export function registerDrillList(drill: Command): void {
  drill
    .command("list")
    .description("Recent drills, newest first, with their status and measured restore time")
    .option("--source <name>", "only this source's drills")
    .option("--limit <n>", "at most this many", positiveInteger, 20)
    .option("--json", "print JSON for scripts")
    .action(list);
}

async function list(options: { source?: string; limit: number; json?: boolean }, command: Command): Promise<void> {
  const { catalog } = await servicesFor(command);
  const drills = options.source
    ? await catalog.drills.listBySource(options.source, options.limit)
    : await catalog.drills.recent(options.limit);
  if (options.json) return printJson({ drills });
  printDrills(drills);
}
