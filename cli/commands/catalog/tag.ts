import type { Command } from "commander";
import type { Catalog } from "../../../shared/catalog/dynamo/open";
import { shortBackupId } from "../../../shared/catalog/find";
import { RestorableError } from "../../../shared/errors";
import { collect, listOf } from "../../context";
import { printJson } from "../../output/format";
import { servicesFor } from "../../services";
import { findBackup } from "./query";

interface TagOptions {
  add?: string[];
  remove?: string[];
  json?: boolean;
}

export function registerCatalogTag(catalog: Command): void {
  catalog
    .command("tag")
    .description("Add or remove tags of a backup, e.g. a legal hold that retention will not remove")
    .argument("<id>", "backup id")
    .option("--add <tag>", "tag to add (repeatable), e.g. legal-hold", collect)
    .option("--remove <tag>", "tag to remove (repeatable)", collect)
    .option("--json", "print JSON for scripts")
    .action(tagBackup);
}

async function tagBackup(id: string, options: TagOptions, command: Command): Promise<void> {
  const { catalog } = await servicesFor(command);
  const tagged = await retag(catalog, id, listOf(options.add), listOf(options.remove));
  if (options.json) return printJson(tagged);
  console.log(`${tagged.id}: tags ${tagged.tags.join(", ") || "(none)"}`);
}

/** Replaces a dump set's tags; a restic snapshot's tags belong to its repository. */
async function retag(
  catalog: Catalog,
  id: string,
  add: string[],
  remove: string[],
): Promise<{ id: string; tags: string[] }> {
  const backup = await findBackup(catalog, id);
  if (backup.kind === "restic") {
    // The repository is the truth for a restic snapshot's tags; a catalog-only tag would drift from it.
    const flags = [...add.map((tag) => `--add ${tag}`), ...remove.map((tag) => `--remove ${tag}`)];
    throw new RestorableError(
      "restic-tags",
      `tag restic snapshots in their repository: restic tag ${flags.join(" ") || "--add <tag>"} ${shortBackupId(backup)}`,
    );
  }
  const tags = [...backup.tags.filter((tag) => !remove.includes(tag)), ...add];
  const updated = await catalog.backups.setTags(backup.id, tags);
  return { id: backup.id, tags: updated?.tags ?? [] };
}
