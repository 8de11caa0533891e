import type { Command } from "commander";
import type { Catalog } from "../../../shared/catalog/dynamo/open";
import { collect, groupByArgument, positiveInteger } from "../../context";
import { printBackupGroups, printBackups, printSources } from "../../output/backups";
import { printJson } from "../../output/format";
import { servicesFor } from "../../services";
import { sourceExists, warnUnknownRepository, warnUnknownSource } from "../names";
import { type BackupFilter, groupBackups, isUnfiltered, selectBackups, withNewestAttempts } from "./query";

interface ListOptions extends BackupFilter {
  json?: boolean;
}

export function registerCatalogList(catalog: Command): void {
  catalog
    .command("list")
    .description(
      "List every source with its latest backup, or the backups of a source, tag or repository, newest first",
    )
    .option("--source <name>", "only this source's backups")
    .option(
      "--tag <tags>",
      "only backups with these tags; as in restic, a,b needs both and repeating --tag accepts either",
      collect,
    )
    .option("--repo <name>", "only the snapshots of this restic repository")
    .option(
      "--group-by <fields>",
      "group the backups as restic snapshots --group-by does (host, paths, tags)",
      groupByArgument,
    )
    .option("--limit <n>", "at most this many backups", positiveInteger, 50)
    .option("--json", "print JSON for scripts")
    .action(listCatalog);
}

async function listCatalog(options: ListOptions, command: Command): Promise<void> {
  const { catalog } = await servicesFor(command);
  if (isUnfiltered(options)) return listSources(catalog, options.json);
  if (options.repo) await warnUnknownRepository(catalog.repositories, options.repo);
  const backups = await selectBackups(catalog, options);
  // A mistyped --source matches nothing: say so, with the closest sources, rather than pass for an empty list.
  if (options.source && backups.length === 0 && !(await sourceExists(catalog.backups, options.source))) {
    await warnUnknownSource(catalog.backups, options.source);
  }
  if (options.groupBy) {
    const groups = groupBackups(backups, options.groupBy);
    return options.json ? printJson(groups) : printBackupGroups(groups, options.groupBy);
  }
  if (options.json) return printJson({ backups });
  if (backups.length === 0) return console.log("No backups match.");
  printBackups(backups);
}

/** Every source with its latest backup, and whether its restic repository turned unreadable since. */
async function listSources(catalog: Catalog, json: boolean | undefined): Promise<void> {
  const [sources, repositories] = await Promise.all([catalog.backups.listSources(), catalog.repositories.list()]);
  const rows = withNewestAttempts(sources, repositories);
  return json ? printJson({ sources: rows }) : printSources(rows);
}
