import type { Command } from "commander";
import { printBackup } from "../../output/backups";
import { printJson } from "../../output/format";
import { servicesFor } from "../../services";
import { findBackup } from "./query";

export function registerCatalogShow(catalog: Command): void {
  catalog
    .command("show")
    .description("Show one backup with its components and status")
    .argument("<id>", "backup id (a dump set id or restic snapshot id)")
    .option("--json", "print JSON for scripts")
    .action(showBackup);
}

async function showBackup(id: string, options: { json?: boolean }, command: Command): Promise<void> {
  const { catalog } = await servicesFor(command);
  const backup = await findBackup(catalog, id);
  if (options.json) return printJson(backup);
  printBackup(backup);
}
