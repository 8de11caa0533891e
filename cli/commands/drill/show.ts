import type { Command } from "commander";
import { InvalidInputError } from "../../../shared/errors";
import { printDrill } from "../../output/drills";
import { printJson } from "../../output/format";
import { servicesFor } from "../../services";

export function registerDrillShow(drill: Command): void {
  drill
    .command("show")
    .description("One drill: its backup, each check with its detail, phase durations and bytes")
    .argument("<id>", "the drill id (d-…)")
    .option("--json", "print JSON for scripts")
    .action(show);
}

async function show(id: string, options: { json?: boolean }, command: Command): Promise<void> {
  const { catalog } = await servicesFor(command);
  const drill = await catalog.drills.get(id);
  if (!drill) throw new InvalidInputError("unknown-drill", `no drill ${id}: restorable drill list shows the drills`);
  if (options.json) return printJson(drill);
  printDrill(drill);
}
