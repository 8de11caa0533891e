import type { BackupEntry, ResticSnapshotEntry, SourceEntry } from "../../shared/catalog/entry";
import type { ArchiveContent } from "../../shared/dumpset/manifest";
import type { GroupByField } from "../../shared/restic/repository";
import { bytes, displayId, printFields, printTable, shortTime } from "./format";

/** The components of a dump set, as pushed or as catalogued. */
export function printComponents(
  components: { name: string; kind: string; size: number; sha256: string; contents?: ArchiveContent[] }[],
): void {
  printTable(
    ["COMPONENT", "KIND", "SIZE", "SHA-256"],
    components.map((c) => [c.name, c.kind, String(c.size), c.sha256]),
  );
  for (const component of components) if (component.contents) printContents(component.name, component.contents);
}

/** What an archive holds, as read when it was pushed: its top-level entries, directories summed up. */
function printContents(name: string, contents: ArchiveContent[]): void {
  console.log(`\n${name} holds:`);
  printTable(
    ["PATH", "TYPE", "SIZE", "FILES"],
    contents.map((c) => [
      c.type === "directory" ? `${c.path}/` : c.path,
      c.type,
      bytes(c.size),
      c.files === undefined ? "-" : String(c.files),
    ]),
  );
}

export function printBackups(backups: BackupEntry[]): void {
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

/** One backup in full: its fields, then a dump set's components and problems. */
export function printBackup(backup: BackupEntry): void {
  const fields: [string, string][] = [
    ["id", backup.id],
    ["kind", backup.kind],
    ["source", backup.source],
    ["created", backup.createdAt],
    ["status", backup.status + (backup.statusReason ? ` (${backup.statusReason})` : "")],
    ["host", backup.hostname ?? "-"],
    ["size", backup.sizeBytes === null ? "-" : `${bytes(backup.sizeBytes)} (${backup.sizeBytes} bytes)`],
    ["tags", backup.tags.join(", ") || "-"],
    ["indexed", backup.indexedAt],
    [
      "last drill",
      backup.lastDrill
        ? `${backup.lastDrill.status} ${shortTime(backup.lastDrill.at)} (restorable drill show ${backup.lastDrill.id})`
        : "never drilled",
    ],
  ];
  if (backup.kind === "dumpset") {
    fields.push(["server version", backup.serverVersion ?? "-"], ["master key id", backup.masterKeyId ?? "-"]);
  } else {
    fields.push(...snapshotFields(backup));
  }
  printFields(fields);
  if (backup.kind === "dumpset" && backup.components.length > 0) {
    console.log("");
    printComponents(backup.components);
  }
  if (backup.kind === "dumpset" && backup.problems.length > 1) {
    console.log("\nproblems:");
    for (const problem of backup.problems) console.log(`  - ${problem}`);
  }
}

function snapshotFields(snapshot: ResticSnapshotEntry): [string, string][] {
  return [
    ["repository", snapshot.repository],
    ["restic time", snapshot.resticTime ?? "-"],
    ["username", snapshot.username ?? "-"],
    ["paths", snapshot.paths.join(", ") || "-"],
    ["tree", snapshot.tree ?? "-"],
    ["parent", snapshot.parent ?? "-"],
    ["program", snapshot.programVersion ?? "-"],
    ...optionalField("original", snapshot.original),
    ...optionalField("rewritten as", snapshot.rewrittenAs),
    ...optionalField("forgotten", snapshot.forgottenAt),
  ];
}

/** A field shown only when it has a value. */
function optionalField(label: string, value: string | null): [string, string][] {
  return value ? [[label, value]] : [];
}

/** What the catalog cannot show of a source: its repository turned unreadable after the source's latest backup. */
export interface NewestAttempt {
  repository: string;
  status: "UNREADABLE";
  since: string;
  reason: string | null;
}

/** A source as `catalog list` shows it: its latest backup, and what may have come after it unread. */
export type SourceRow = SourceEntry & { newest: NewestAttempt | null };

/** Every source with its latest backup, for `catalog list` without a filter. */
export function printSources(sources: SourceRow[]): void {
  if (sources.length === 0) {
    console.log("The catalog is empty: no backup has arrived yet.");
    return;
  }
  printTable(
    ["SOURCE", "KIND", "LATEST", "STATUS", "LATEST COMPLETE"],
    sources.map((s) => [
      s.source,
      s.kind,
      s.latest ? `${displayId(s.latest.id)} (${shortTime(s.latest.createdAt)})` : "-",
      s.newest ? `${s.newest.status} (newest)` : (s.latest?.status ?? "-"),
      s.latestComplete ? shortTime(s.latestComplete.createdAt) : "never",
    ]),
  );
  const unreadable = new Map(sources.flatMap((s) => (s.newest ? [[s.newest.repository, s.newest]] : [])));
  for (const [repository, newest] of unreadable) {
    console.log(
      `\n(newest): restic repository ${repository} cannot be read since ${shortTime(newest.since)}, so its sources ` +
        `may have newer snapshots than shown${newest.reason ? `: ${newest.reason}` : ""}`,
    );
  }
}

interface GroupedBackups {
  group_key: { hostname: string; paths: string[]; tags: string[] };
  snapshots: BackupEntry[];
}

/** Groups as restic snapshots --group-by prints them. */
export function printBackupGroups(groups: GroupedBackups[], fields: GroupByField[]): void {
  if (groups.length === 0) {
    console.log("No backups match.");
    return;
  }
  for (const [index, group] of groups.entries()) {
    if (index > 0) console.log("");
    console.log(`snapshots for (${describeGroupKey(group.group_key, fields)}):`);
    printBackups(group.snapshots);
  }
}

function describeGroupKey(key: GroupedBackups["group_key"], fields: GroupByField[]): string {
  const parts: string[] = [];
  if (fields.includes("host")) parts.push(`host [${key.hostname}]`);
  if (fields.includes("paths")) parts.push(`paths [${key.paths.join(", ")}]`);
  if (fields.includes("tags")) parts.push(`tags [${key.tags.join(", ")}]`);
  return parts.join(", ");
}
