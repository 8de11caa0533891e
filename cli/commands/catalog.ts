import type { Command } from "commander";
import type { BackupEntry } from "../../shared/catalog/entry";
import type { CatalogStore } from "../../shared/catalog/store";
import { RestorableError } from "../../shared/errors";
import type { GroupByField } from "../../shared/restic/repository";
import { dynamoClient } from "../aws";
import { collect, deploymentFor, positiveInteger } from "../context";
import { printJson, printTable, shortTime } from "../output";
import { bytes } from "../upload/progress";
import { groupByArgument } from "./restic";

export function registerCatalogCommands(program: Command): void {
  const catalog = program.command("catalog").description("Query the backup catalog");

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
      [],
    )
    .option("--repo <name>", "only the snapshots of this restic repository")
    .option(
      "--group-by <fields>",
      "group the backups as restic snapshots --group-by does (host, paths, tags)",
      groupByArgument,
    )
    .option("--limit <n>", "at most this many backups", positiveInteger, 50)
    .option("--json", "print JSON for scripts")
    .action(async (options: ListOptions, command: Command) => {
      const store = await catalogStore(command);
      if (!options.source && options.tag.length === 0 && !options.repo && !options.groupBy) {
        const sources = await store.listSources();
        if (options.json) return printJson({ sources });
        if (sources.length === 0) return console.log("The catalog is empty: no backup has arrived yet.");
        return printTable(
          ["SOURCE", "KIND", "LATEST", "STATUS", "LATEST COMPLETE"],
          sources.map((s) => [
            s.source,
            s.kind,
            s.latest ? `${displayId(s.latest.id)} (${shortTime(s.latest.createdAt)})` : "-",
            s.latest?.status ?? "-",
            s.latestComplete ? shortTime(s.latestComplete.createdAt) : "never",
          ]),
        );
      }
      const backups = await selectBackups(store, options, command);
      if (options.groupBy) {
        const groups = groupBackups(backups, options.groupBy);
        if (options.json) return printJson(groups);
        if (groups.length === 0) return console.log("No backups match.");
        for (const [index, group] of groups.entries()) {
          if (index > 0) console.log("");
          console.log(`snapshots for (${describeGroupKey(group.group_key, options.groupBy)}):`);
          printBackups(group.snapshots);
        }
        return;
      }
      if (options.json) return printJson({ backups });
      if (backups.length === 0) return console.log("No backups match.");
      printBackups(backups);
    });

  catalog
    .command("tag")
    .description("Add or remove tags of a backup, e.g. a legal hold that retention will not remove")
    .argument("<id>", "backup id")
    .option("--add <tag>", "tag to add (repeatable), e.g. legal-hold", collect, [])
    .option("--remove <tag>", "tag to remove (repeatable)", collect, [])
    .action(async (id: string, options: { add: string[]; remove: string[] }, command: Command) => {
      const store = await catalogStore(command);
      const backup = await store.getBackup(id);
      if (!backup) throw new RestorableError("not-found", `no backup with id ${id} in the catalog`);
      if (backup.kind === "restic") {
        // The repository is the truth for a restic snapshot's tags; a catalog-only tag would drift from it.
        throw new RestorableError(
          "restic-tags",
          `tag restic snapshots in their repository: restic tag --add <tag> ${id.slice(0, 8)}`,
        );
      }
      const tags = [...backup.tags.filter((tag) => !options.remove.includes(tag)), ...options.add];
      const updated = await store.setTags(id, tags);
      console.log(`${id}: tags ${updated?.tags.join(", ") || "(none)"}`);
    });

  catalog
    .command("show")
    .description("Show one backup with its components and status")
    .argument("<id>", "backup id (a dump set id or restic snapshot id)")
    .option("--json", "print JSON for scripts")
    .action(async (id: string, options: { json?: boolean }, command: Command) => {
      const store = await catalogStore(command);
      const backup = (await store.getBackup(id)) ?? (await findByShortId(store, id, command));
      if (!backup) throw new RestorableError("not-found", `no backup with id ${id} in the catalog`);
      if (options.json) return printJson(backup);
      printBackup(backup);
    });
}

interface ListOptions {
  source?: string;
  tag: string[];
  repo?: string;
  groupBy?: GroupByField[];
  limit: number;
  json?: boolean;
}

/** restic's tag filter: each --tag value is a comma-separated list a backup must carry all of. */
function tagLists(values: string[]): string[][] {
  return values.map((value) =>
    value
      .split(",")
      .map((tag) => tag.trim())
      .filter((tag) => tag !== ""),
  );
}

async function selectBackups(store: CatalogStore, options: ListOptions, command: Command): Promise<BackupEntry[]> {
  const lists = tagLists(options.tag);
  const wanted = (backup: BackupEntry) =>
    (lists.length === 0 || lists.some((list) => list.every((tag) => backup.tags.includes(tag)))) &&
    (!options.source || backup.source === options.source) &&
    (!options.repo || (backup.kind === "restic" && backup.repository === options.repo));
  // Read through the narrowest timeline, then filter; each timeline query is bounded, none scans.
  const reach = Math.max(options.limit, 1000);
  let candidates: BackupEntry[];
  if (options.source) candidates = await store.listBySource(options.source, { limit: reach });
  else if (options.repo) candidates = await store.listByRepository(options.repo, { limit: reach });
  else if (lists.length > 0) {
    candidates = (
      await Promise.all(
        lists.filter((l) => l.length > 0).map((list) => store.listByTag(list[0] as string, { limit: reach })),
      )
    ).flat();
  } else {
    // --group-by alone: every snapshot of every registered restic repository, as restic snapshots shows one repository's.
    const deployment = await deploymentFor(command);
    const { DynamoRepositoryStore } = await import("../../shared/catalog/dynamo/repository-store");
    const repositories = await new DynamoRepositoryStore(await dynamoClient(), deployment.table).list();
    candidates = (await Promise.all(repositories.map((r) => store.listByRepository(r.name, { limit: reach })))).flat();
  }
  const unique = new Map(candidates.filter(wanted).map((backup) => [backup.id, backup]));
  return [...unique.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, options.limit);
}

interface GroupKey {
  hostname: string;
  paths: string[];
  tags: string[];
}

/** Groups as restic does for snapshots --group-by, oldest first within a group, in restic's JSON shape. */
function groupBackups(
  backups: BackupEntry[],
  fields: GroupByField[],
): { group_key: GroupKey; snapshots: BackupEntry[] }[] {
  const groups = new Map<string, { group_key: GroupKey; snapshots: BackupEntry[] }>();
  for (const backup of backups) {
    const group_key: GroupKey = {
      hostname: fields.includes("host") ? (backup.hostname ?? "") : "",
      paths: fields.includes("paths") && backup.kind === "restic" ? [...backup.paths].sort() : [],
      tags: fields.includes("tags") ? [...backup.tags].sort() : [],
    };
    const id = JSON.stringify(group_key);
    const group = groups.get(id) ?? { group_key, snapshots: [] };
    group.snapshots.push(backup);
    groups.set(id, group);
  }
  for (const group of groups.values()) group.snapshots.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  return [...groups.values()];
}

function describeGroupKey(key: GroupKey, fields: GroupByField[]): string {
  const parts: string[] = [];
  if (fields.includes("host")) parts.push(`host [${key.hostname}]`);
  if (fields.includes("paths")) parts.push(`paths [${key.paths.join(", ")}]`);
  if (fields.includes("tags")) parts.push(`tags [${key.tags.join(", ")}]`);
  return parts.join(", ");
}

function printBackups(backups: BackupEntry[]): void {
  printTable(
    ["ID", "CREATED", "HOST", "TAGS", "STATUS", "SIZE", "SOURCE / REASON"],
    backups.map((b) => [
      displayId(b.id),
      shortTime(b.createdAt),
      b.hostname ?? "-",
      b.tags.join(",") || "-",
      b.status,
      b.sizeBytes === null ? "-" : bytes(b.sizeBytes),
      b.statusReason ?? b.source,
    ]),
  );
}

/** restic's ids are shown short, as restic does; dump-set ids are already short. */
function displayId(id: string): string {
  return /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 8) : id;
}

/** restic users quote short ids; look for a unique prefix among the registered repositories' snapshots. */
async function findByShortId(store: CatalogStore, id: string, command: Command): Promise<BackupEntry | undefined> {
  if (!/^[0-9a-f]{4,63}$/.test(id)) return undefined;
  const deployment = await deploymentFor(command);
  const { DynamoRepositoryStore } = await import("../../shared/catalog/dynamo/repository-store");
  const repositories = await new DynamoRepositoryStore(await dynamoClient(), deployment.table).list();
  const matches = (await Promise.all(repositories.map((r) => store.listByRepository(r.name, { limit: 10_000 }))))
    .flat()
    .filter((backup) => backup.id.startsWith(id));
  if (matches.length > 1)
    throw new RestorableError("ambiguous-id", `${id} matches ${matches.length} snapshots; give more of the id`);
  return matches[0];
}

async function catalogStore(command: Command): Promise<CatalogStore> {
  const deployment = await deploymentFor(command);
  const { DynamoCatalogStore } = await import("../../shared/catalog/dynamo/catalog-store");
  return new DynamoCatalogStore(await dynamoClient(), deployment.table);
}

function printBackup(backup: BackupEntry): void {
  const lines: [string, string][] = [
    ["id", backup.id],
    ["kind", backup.kind],
    ["source", backup.source],
    ["created", backup.createdAt],
    ["status", backup.status + (backup.statusReason ? ` (${backup.statusReason})` : "")],
    ["host", backup.hostname ?? "-"],
    ["size", backup.sizeBytes === null ? "-" : `${bytes(backup.sizeBytes)} (${backup.sizeBytes} bytes)`],
    ["tags", backup.tags.join(", ") || "-"],
    ["indexed", backup.indexedAt],
  ];
  if (backup.kind === "dumpset") {
    lines.push(["server version", backup.serverVersion ?? "-"], ["master key id", backup.masterKeyId ?? "-"]);
  } else {
    lines.push(
      ["repository", backup.repository],
      ["restic time", backup.resticTime ?? "-"],
      ["username", backup.username ?? "-"],
      ["paths", backup.paths.join(", ") || "-"],
      ["tree", backup.tree ?? "-"],
      ["parent", backup.parent ?? "-"],
      ["program", backup.programVersion ?? "-"],
    );
    if (backup.forgottenAt) lines.push(["forgotten", backup.forgottenAt]);
  }
  const width = Math.max(...lines.map(([label]) => label.length));
  for (const [label, value] of lines) console.log(`${label.padEnd(width)}  ${value}`);
  if (backup.kind === "dumpset" && backup.components.length > 0) {
    console.log("");
    printTable(
      ["COMPONENT", "KIND", "SIZE", "SHA-256"],
      backup.components.map((c) => [c.name, c.kind, String(c.size), c.sha256]),
    );
  }
  if (backup.kind === "dumpset" && backup.problems.length > 1) {
    console.log("\nproblems:");
    for (const problem of backup.problems) console.log(`  - ${problem}`);
  }
}
