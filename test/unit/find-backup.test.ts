import { describe, expect, it } from "vitest";
import type { BackupEntry, SourceEntry } from "../../shared/catalog/entry";
import { AmbiguousBackupIdError, BackupNotFoundError, findBackup, shortBackupId } from "../../shared/catalog/find";

const setA = { id: "20261203T020000Z-0123456789ab", kind: "dumpset", source: "db" } as BackupEntry;
const setB = { id: "20261203T030000Z-ba9876543210", kind: "dumpset", source: "db" } as BackupEntry;
const snapshot = {
  id: `4f3a9c1e${"0".repeat(56)}`,
  kind: "restic",
  source: "restic:ws",
  repository: "ws",
} as BackupEntry;
const entries = [setA, setB, snapshot];

const deps = {
  catalog: {
    getBackup: async (id: string) => entries.find((entry) => entry.id === id),
    listByRepository: async () => [snapshot],
    listBySource: async (source: string) => entries.filter((entry) => entry.source === source),
    listSources: async () => [
      { source: "db", kind: "dumpset" } as SourceEntry,
      { source: "restic:ws", kind: "restic" } as SourceEntry,
    ],
  },
  repositories: { list: async () => [{ name: "ws" }] as never },
};

describe("finding a backup by a short id", () => {
  it("takes the full id, restic's short id, or a unique prefix of a dump-set id", async () => {
    expect(await findBackup(setA.id, deps)).toBe(setA);
    expect(await findBackup("4f3a9c1e", deps)).toBe(snapshot);
    expect(await findBackup("20261203T03", deps)).toBe(setB);
  });

  it("refuses a prefix shared by several backups, naming them, and says how to find an unknown one", async () => {
    await expect(findBackup("20261203", deps)).rejects.toThrow(AmbiguousBackupIdError);
    await expect(findBackup("20261203", deps)).rejects.toThrow(/matches 2 backups \(20261203T020000Z-0123456789ab, /);
    await expect(findBackup("deadbeef", deps)).rejects.toThrow(BackupNotFoundError);
    await expect(findBackup("deadbeef", deps)).rejects.toThrow(/restorable catalog list/);
  });

  it("gives restic snapshots restic's 8-digit short id and dump sets their whole id, unique either way", () => {
    expect(shortBackupId(snapshot)).toBe("4f3a9c1e");
    expect(shortBackupId(setA)).toBe(setA.id);
  });
});
