import type { Command } from "commander";
import { registerSourcesCheck } from "./check";
import { registerSourcesList } from "./list";
import { registerSourcesPause } from "./pause";
import { registerSourcesResume } from "./resume";
import { registerSourcesSet } from "./set";

export function registerSourcesCommands(program: Command): void {
  const sources = program
    .command("sources")
    .description(
      "Source health: is each source backed up as often as expected (UP, LATE, STALE), set expectations, pause",
    );
  registerSourcesList(sources);
  registerSourcesSet(sources);
  registerSourcesPause(sources);
  registerSourcesResume(sources);
  registerSourcesCheck(sources);
}
