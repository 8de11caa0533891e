import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { create } from "tar";
import { describe, expect, it } from "vitest";
import { archiveCreationTime } from "../../cli/upload/archive";
import {
  type ArchiveFindings,
  ArchiveInspector,
  matchChecksumPath,
  UnreadableArchiveError,
} from "../../cli/upload/archive-inspector";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** A tar(.gz) of `files` (path → content; a trailing slash makes an empty directory), in the order given. */
async function archiveOf(files: Record<string, string>, gzip = true): Promise<Buffer> {
  const directory = await mkdtemp(path.join(tmpdir(), "inspector-"));
  for (const [name, body] of Object.entries(files)) {
    if (name.endsWith("/")) await mkdir(path.join(directory, name), { recursive: true });
    else {
      await mkdir(path.dirname(path.join(directory, name)), { recursive: true });
      await writeFile(path.join(directory, name), body);
    }
  }
  const file = path.join(directory, "..", `${path.basename(directory)}.tar${gzip ? ".gz" : ""}`);
  await create({ gzip, file, cwd: directory, portable: true, noDirRecurse: true }, Object.keys(files));
  return readFile(file);
}

async function inspect(bytes: Buffer, chunk = 1000): Promise<ArchiveFindings> {
  const inspector = new ArchiveInspector("test.tar.gz");
  for (let offset = 0; offset < bytes.length; offset += chunk)
    await inspector.write(bytes.subarray(offset, offset + chunk));
  return inspector.end();
}

const HELPER = {
  "manifest.txt": "timestamp: 2026-12-03T02:00:00Z\nhostname: cb1\n",
  "main.dump": "PGDMP dump",
  "shadow-git/": "",
  "shadow-git/ws1/HEAD": "ref: main\n",
  "shadow-git/ws1/objects/ab": "blob",
  "kg/graph.json": "{}",
  SHA256SUMS: `${sha256("PGDMP dump")}  /backups/codebolt/20261203/main.dump\n`,
};

describe("reading a helper's archive as it streams", () => {
  it("finds its manifest, checksums and master key id, hashes its files, and lists its top level", async () => {
    const findings = await inspect(await archiveOf({ ...HELPER, "master-key-id.txt": "mk-9\n" }));
    expect(findings.gzip).toBe(true);
    expect(findings.manifest).toEqual({ path: "manifest.txt", text: HELPER["manifest.txt"] });
    expect(findings.checksums?.path).toBe("SHA256SUMS");
    expect(findings.masterKeyId?.text).toBe("mk-9\n");
    expect(findings.digests.get("main.dump")).toBe(sha256("PGDMP dump"));
    expect(findings.contents).toEqual([
      { path: "SHA256SUMS", type: "file", size: HELPER.SHA256SUMS.length },
      { path: "kg", type: "directory", size: 2, files: 1 },
      { path: "main.dump", type: "file", size: 10 },
      { path: "manifest.txt", type: "file", size: HELPER["manifest.txt"].length },
      { path: "master-key-id.txt", type: "file", size: 5 },
      { path: "shadow-git", type: "directory", size: 14, files: 2 },
    ]);
  });

  it("lists the entries of a single root directory, and finds the manifest in it", async () => {
    const rooted = Object.fromEntries(Object.entries(HELPER).map(([name, body]) => [`20261203/${name}`, body]));
    const findings = await inspect(await archiveOf({ "20261203/": "", ...rooted }, false));
    expect(findings.gzip).toBe(false);
    expect(findings.manifest?.path).toBe("20261203/manifest.txt");
    expect(findings.contents.map((c) => c.path)).toContain("20261203/main.dump");
    expect(findings.contents.map((c) => c.path)).toContain("20261203/shadow-git");
  });

  it("does not take a manifest deeper down for the archive's own", async () => {
    const findings = await inspect(
      await archiveOf({ "main.dump": "x", "capabilities/a/manifest.txt": "timestamp: 1999" }),
    );
    expect(findings.manifest).toBeUndefined();
  });

  it.each([
    ["gzip cut short", (bytes: Buffer) => bytes.subarray(0, bytes.length - 20), true, /unexpected end of file/],
    ["tar cut inside an entry", (bytes: Buffer) => bytes.subarray(0, 1536 + 50), false, /Truncated input/],
    ["tar cut between entries", (bytes: Buffer) => bytes.subarray(0, 1024), false, /end-of-archive marker/],
    ["not an archive", () => Buffer.from("hello ".repeat(200)), false, /not a whole tar archive/],
  ])("refuses an archive that is not whole: %s", async (_case, cut, gzip, message) => {
    const bytes = cut(await archiveOf({ "main.dump": "x".repeat(100), "kg.json": "y".repeat(100) }, gzip));
    const failure = await inspect(bytes).catch((error: Error) => error);
    expect(failure).toBeInstanceOf(UnreadableArchiveError);
    expect((failure as Error).message).toMatch(message);
  });
});

describe("the file a SHA256SUMS line names", () => {
  const paths = ["main.dump", "shadow-git/main.dump", "20261203/kg/graph.json", "20261203/codebolt-server.yaml"];
  it.each([
    ["main.dump", "main.dump"],
    ["./main.dump", "main.dump"],
    ["/backups/codebolt/20261203/main.dump", "main.dump"],
    ["/backups/codebolt/20261203/kg/graph.json", "20261203/kg/graph.json"],
    ["kg/graph.json", "20261203/kg/graph.json"],
    ["/elsewhere/codebolt-server.yaml", "20261203/codebolt-server.yaml"],
    ["vectordb/index.bin", undefined],
  ])("%s → %s", (listed, expected) => {
    expect(matchChecksumPath(listed, paths)).toBe(expected);
  });
});

describe("when a helper's archive was made", () => {
  const mtime = new Date("2020-01-01T00:00:00Z");
  it("is its manifest's timestamp, else its file name, else its modification time", () => {
    expect(archiveCreationTime("20261203.tar.gz", { timestamp: "2026-12-03T02:00:00Z" }, { mtime })).toEqual(
      new Date("2026-12-03T02:00:00Z"),
    );
    expect(archiveCreationTime("20261203.tar.gz", null, { mtime })).toEqual(new Date(2026, 11, 3));
    expect(archiveCreationTime("20261203_020000.tgz", {}, { mtime })).toEqual(new Date(2026, 11, 3, 2, 0, 0));
    expect(archiveCreationTime("backup.tar", null, { mtime })).toBe(mtime);
  });
});
