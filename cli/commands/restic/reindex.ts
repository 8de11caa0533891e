import type { Command } from "commander";
import { plural, printJson } from "../../output/format";
import { resticServicesFor } from "../../services";

export function registerResticReindex(restic: Command): void {
  restic
    .command("reindex")
    .description("Hand every snapshot file of a repository to the indexer again (after fixing its password)")
    .argument("<name>", "repository name")
    .option("--json", "print JSON for scripts")
    .action(reindex);
}

async function reindex(name: string, options: { json?: boolean }, command: Command): Promise<void> {
  const { deployment, clients } = await resticServicesFor(command);
  const { reindexRepository } = await import("../../operator/restic-repositories");
  const queued = await reindexRepository(name, deployment, clients);
  if (options.json) return printJson({ repository: name, queued });
  console.log(`Queued ${plural(queued, "snapshot file")} of ${name} for re-indexing.`);
}
