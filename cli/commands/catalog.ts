import type { Command } from "commander";
import type { BackupEntry } from "../../shared/catalog/entry";
import type { CatalogStore } from "../../shared/catalog/store";
import { RestorableError } from "../../shared/errors";
import { dynamoClient } from "../aws";
import { deploymentFor, positiveInteger } from "../context";
import { printJson, printTable, shortTime } from "../output";
import { bytes } from "../upload/progress";

export function registerCatalogCommands(program: Command): void {
  const catalog = program.command("catalog").description("Query the backup catalog");

  catalog
    .command("list")
    .description("List every source with its latest backup, or the backups of one source or tag, newest first")
    .option("--source <name>", "only this source's backups")
    .option("--tag <tag>", "only backups carrying this tag (k:v)")
    .option("--limit <n>", "at most this many backups", positiveInteger, 50)
    .option("--json", "print JSON for scripts")
    .action(async (options: { source?: string; tag?: string; limit: number; json?: boolean }, command: Command) => {
      const store = await catalogStore(command);
      if (!options.source && !options.tag) {
        const sources = await store.listSources();
        if (options.json) return printJson({ sources });
        if (sources.length === 0) return console.log("The catalog is empty: no backup has arrived yet.");
        return printTable(
          ["SOURCE", "KIND", "LATEST", "STATUS", "LATEST COMPLETE"],
          sources.map((s) => [
            s.source,
            s.kind,
            s.latest ? `${s.latest.id} (${shortTime(s.latest.createdAt)})` : "-",
            s.latest?.status ?? "-",
            s.latestComplete ? shortTime(s.latestComplete.createdAt) : "never",
          ]),
        );
      }
      let backups = options.source
        ? await store.listBySource(options.source, { limit: options.tag ? 1000 : options.limit })
        : await store.listByTag(options.tag as string, { limit: options.limit });
      if (options.source && options.tag)
        backups = backups.filter((b) => b.tags.includes(options.tag as string)).slice(0, options.limit);
      if (options.json) return printJson({ backups });
      if (backups.length === 0) return console.log("No backups match.");
      printTable(
        ["ID", "SOURCE", "CREATED", "STATUS", "SIZE", "REASON"],
        backups.map((b) => [
          b.id,
          b.source,
          shortTime(b.createdAt),
          b.status,
          b.sizeBytes === null ? "-" : bytes(b.sizeBytes),
          b.statusReason ?? "",
        ]),
      );
    });

  catalog
    .command("show")
    .description("Show one backup with its components and status")
    .argument("<id>", "backup id (a dump set id or restic snapshot id)")
    .option("--json", "print JSON for scripts")
    .action(async (id: string, options: { json?: boolean }, command: Command) => {
      const store = await catalogStore(command);
      const backup = await store.getBackup(id);
      if (!backup) throw new RestorableError("not-found", `no backup with id ${id} in the catalog`);
      if (options.json) return printJson(backup);
      printBackup(backup);
    });
}

async function catalogStore(command: Command): Promise<CatalogStore> {
  const deployment = await deploymentFor(command);
  const { DynamoCatalogStore } = await import("../../shared/catalog/dynamo-store");
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
