import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ListMultipartUploadsCommand, ListObjectVersionsCommand } from "@aws-sdk/client-s3";
import { beforeAll, describe, expect, inject, it } from "vitest";
import type { DumpSetEntry } from "../../shared/catalog/entry";
import { binary, postgresAt } from "../support/postgres";
import { writeSeedBackup } from "../support/seed-backup";
import { startTestStack, type TestStack } from "../support/stack";
import { run } from "../support/tools";

let stack: TestStack;
const postgres = () => postgresAt(inject("postgresPort"));
const ROWS = 300;

beforeAll(async () => {
  stack = await startTestStack("helper-archive");
});

const scratch = (label: string) => mkdtemp(path.join(tmpdir(), `restorable-${label}-`));

interface HelperArchive {
  /** The archive, named as the page's helper names it: /…/20261203.tar.gz */
  archive: string;
  /** What the archive holds, as a directory (the layout the helper wrote). */
  staging: string;
}

/**
 * A tarball as `codebolt admin backup --output /backups/codebolt/$(date +%Y%m%d).tar.gz` describes it: DB, shadow
 * git, vector DB, KG, capabilities and config, a manifest and a checksum file, and no master key (id). Built with
 * GNU tar from a real pg_dump backup. `order` lists the top-level entries in archive order (manifest first by
 * default); `rooted` puts everything under one directory named like the archive, as `tar czf x.tgz 20261203/` does.
 */
async function helperArchive(
  options: { rooted?: boolean; order?: string[]; sums?: (sums: string) => string; big?: boolean; name?: string } = {},
): Promise<HelperArchive> {
  const { directory: seed } = await writeSeedBackup(postgres(), { rows: ROWS });
  const parent = await scratch("helper");
  const staging = path.join(parent, "20261203");
  await run("cp", ["-a", seed, staging]);
  for (const file of ["master-key-id.txt", "manifest.txt", "SHA256SUMS"]) await rm(path.join(staging, file));
  if (options.big) {
    // Past one 8 MiB part, so the upload is multipart; random, so gzip cannot shrink it below that.
    await writeFile(path.join(staging, "vectordb", "big.bin"), randomBytes(12 * 1024 * 1024));
  }
  await writeFile(
    path.join(staging, "manifest.txt"),
    "timestamp: 2026-12-03T02:00:00Z\nhostname: codebolt-1\nserver_version: codebolt-server 1.5.0\n",
  );
  const { stdout } = await run("sha256sum", ["main.dump", "codebolt-server.yaml", "./vectordb/index.bin"], {
    cwd: staging,
  });
  await writeFile(path.join(staging, "SHA256SUMS"), options.sums ? options.sums(stdout) : stdout);
  const out = await scratch("helper-out");
  const archive = path.join(out, options.name ?? "20261203.tar.gz");
  const gzip = archive.endsWith(".tar") ? "cf" : "czf";
  const order = options.order ?? [
    "manifest.txt",
    "SHA256SUMS",
    "main.dump",
    "codebolt-server.yaml",
    "shadow-git",
    "vectordb",
    "kg",
    "capabilities",
  ];
  if (options.rooted) await run("tar", [gzip, archive, "-C", parent, "20261203"]);
  else await run("tar", [gzip, archive, "-C", staging, ...order]);
  return { archive, staging };
}

async function diffTrees(a: string, b: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run("diff", ["-r", "--no-dereference", a, b]);
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

/** Every version and open upload under the source's prefixes: a refused push leaves none. */
async function storedFor(source: string): Promise<string[]> {
  const stored: string[] = [];
  for (const prefix of [`sets/${source}/`, `incoming/${source}/`]) {
    const versions = await stack.s3.send(
      new ListObjectVersionsCommand({ Bucket: stack.deployment.bucket, Prefix: prefix }),
    );
    stored.push(...(versions.Versions ?? []).map((v) => v.Key as string));
    const uploads = await stack.s3.send(
      new ListMultipartUploadsCommand({ Bucket: stack.deployment.bucket, Prefix: prefix }),
    );
    stored.push(...(uploads.Uploads ?? []).map((u) => `upload ${u.Key}`));
  }
  return stored;
}

async function pushed(
  archive: string,
  source: string,
): Promise<{ setId: string; entry: DumpSetEntry; stderr: string }> {
  const result = await stack.cli(["push", archive, "--source", source, "--json"]);
  expect(result.code, result.stderr).toBe(0);
  await stack.pump.drain();
  const setId = JSON.parse(result.stdout).setId as string;
  return { setId, entry: (await stack.catalog.getBackup(setId)) as DumpSetEntry, stderr: result.stderr };
}

describe("the helper's single archive", () => {
  it("is pushed as one component, COMPLETE with its contents, and restores to the layout the helper wrote", async () => {
    const { archive, staging } = await helperArchive({ big: true });
    const { setId, entry, stderr } = await pushed(archive, "helper");

    expect(setId).toMatch(/^20261203T020000Z-/);
    expect(stderr).toContain("holds no master-key-id: the set's master key is recorded as unknown");
    expect(entry).toMatchObject({
      status: "COMPLETE",
      hostname: "codebolt-1",
      serverVersion: "codebolt-server 1.5.0",
      masterKeyId: null,
      createdAt: "2026-12-03T02:00:00.000Z",
    });
    const [component] = entry.components;
    expect(component).toMatchObject({ name: "20261203.tar.gz", kind: "archive", size: (await stat(archive)).size });
    const contents = Object.fromEntries((component?.contents ?? []).map((c) => [c.path, c]));
    expect(Object.keys(contents).sort()).toEqual(
      [
        "SHA256SUMS",
        "capabilities",
        "codebolt-server.yaml",
        "kg",
        "main.dump",
        "manifest.txt",
        "shadow-git",
        "vectordb",
      ].sort(),
    );
    expect(contents["main.dump"]).toEqual({
      path: "main.dump",
      type: "file",
      size: (await stat(path.join(staging, "main.dump"))).size,
    });
    expect(contents["shadow-git"]).toMatchObject({ type: "directory", files: 2 });
    expect(contents.vectordb).toMatchObject({ type: "directory", files: 2, size: 700 + 12 * 1024 * 1024 });

    const shown = await stack.cli(["catalog", "show", setId]);
    expect(shown.stdout).toContain("20261203.tar.gz holds:");
    expect(shown.stdout).toMatch(/^shadow-git\/\s+directory\s+/m);

    // The same file pushed again is the same set.
    const again = await stack.cli(["push", archive, "--source", "helper", "--json"]);
    expect(JSON.parse(again.stdout)).toMatchObject({ outcome: "already-pushed", setId });

    const to = path.join(await scratch("helper-restore"), "restored");
    const restored = await stack.cli(["restore", setId, "--to", to, "--json"]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(JSON.parse(restored.stdout).components).toEqual([
      expect.objectContaining({ name: "20261203.tar.gz", unpacked: true, bytes: component?.size }),
    ]);
    expect(await diffTrees(staging, to)).toEqual({ code: 0, output: "" });

    // The archive itself, byte for byte.
    const asArchive = await scratch("helper-as-archive");
    const kept = await stack.cli(["restore", setId, "--to", asArchive, "--as-archive"]);
    expect(kept.code, kept.stderr).toBe(0);
    expect(await readdir(asArchive)).toEqual(["20261203.tar.gz"]);
    await run("cmp", [archive, path.join(asArchive, "20261203.tar.gz")]);
  });

  it("gives back just the database from the archive: --only main.dump, to disk or into pg_restore", async () => {
    const { archive, staging } = await helperArchive();
    const { setId } = await pushed(archive, "helper-db");

    const to = await scratch("helper-only");
    const only = await stack.cli(["restore", setId, "--to", to, "--only", "main.dump"]);
    expect(only.code, only.stderr).toBe(0);
    expect(await readdir(to)).toEqual(["main.dump"]);
    await run("cmp", [path.join(staging, "main.dump"), path.join(to, "main.dump")]);

    const database = await postgres().createDatabase("codebolt_tmp");
    const cwd = await scratch("helper-pg");
    const streamed = await stack.cli(
      ["restore", setId, "--only", "main.dump", "--pg-restore", postgres().url(database), "--json"],
      { cwd, env: { PATH: [path.dirname(binary("pg_restore")), process.env.PATH].join(path.delimiter) } },
    );
    expect(streamed.code, streamed.stderr).toBe(0);
    expect(JSON.parse(streamed.stdout)).toMatchObject({ component: "20261203.tar.gz", entry: "main.dump" });
    expect((await postgres().sql(database, "SELECT count(*) FROM codebolt.persistent_memory")).trim()).toBe(
      String(ROWS),
    );
    expect(await readdir(cwd)).toEqual([]);
  });

  it("finds the manifest under the archive's root directory, wherever it comes, and restores that layout", async () => {
    const { archive, staging } = await helperArchive({ rooted: true });
    const { setId, entry } = await pushed(archive, "helper-rooted");
    expect(entry).toMatchObject({ status: "COMPLETE", serverVersion: "codebolt-server 1.5.0" });
    expect(entry.components[0]?.contents?.map((c) => c.path)).toContain("20261203/main.dump");

    const to = await scratch("helper-rooted-restore");
    const restored = await stack.cli(["restore", setId, "--to", to]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await readdir(to)).toEqual(["20261203"]);
    expect(await diffTrees(staging, path.join(to, "20261203"))).toEqual({ code: 0, output: "" });
  });

  it("takes a plain .tar the same way", async () => {
    const { archive, staging } = await helperArchive({
      name: "20261203.tar",
      order: [
        "main.dump",
        "kg",
        "SHA256SUMS",
        "manifest.txt",
        "codebolt-server.yaml",
        "shadow-git",
        "vectordb",
        "capabilities",
      ],
    });
    const { setId, entry } = await pushed(archive, "helper-tar");
    expect(entry).toMatchObject({ status: "COMPLETE", createdAt: "2026-12-03T02:00:00.000Z" });
    const to = await scratch("helper-tar-restore");
    expect((await stack.cli(["restore", setId, "--to", to])).code).toBe(0);
    expect(await diffTrees(staging, to)).toEqual({ code: 0, output: "" });
  });
});

describe("a helper archive that is not whole is refused at push, with exit 1, leaving nothing", () => {
  it("truncated after its manifest: found as it uploads, the upload aborted", async () => {
    const { archive } = await helperArchive({ big: true });
    await truncate(archive, Math.floor((await stat(archive)).size * 0.8));
    const result = await stack.cli(["push", archive, "--source", "truncated-late"]);
    await stack.pump.drain();

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/20261203\.tar\.gz is not a whole tar\.gz archive: unexpected end of file/);
    expect(result.stderr).toContain("nothing was stored or registered");
    expect(await stack.catalog.listBySource("truncated-late")).toEqual([]);
    expect(await storedFor("truncated-late")).toEqual([]);
  });

  it("truncated before its manifest: refused before anything is uploaded", async () => {
    const { archive } = await helperArchive({
      order: [
        "main.dump",
        "shadow-git",
        "vectordb",
        "kg",
        "capabilities",
        "codebolt-server.yaml",
        "SHA256SUMS",
        "manifest.txt",
      ],
    });
    await truncate(archive, Math.floor((await stat(archive)).size / 2));
    const result = await stack.cli(["push", archive, "--source", "truncated-early"]);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/refusing to push: 20261203\.tar\.gz is not a whole tar\.gz archive/);
    expect(result.stderr).toContain("nothing was uploaded or registered");
    expect(await storedFor("truncated-early")).toEqual([]);
  });

  it("not matching its own SHA256SUMS: refused naming the file, nothing registered", async () => {
    const { archive } = await helperArchive({
      big: true,
      sums: (sums) => sums.replace(/^[0-9a-f]{64}(?= {2}main\.dump)/m, "0".repeat(64)),
    });
    const result = await stack.cli(["push", archive, "--source", "mismatch"]);
    await stack.pump.drain();

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /refusing to push: 20261203\.tar\.gz does not match its own checksums \(main\.dump: SHA-256 is [0-9a-f]{64}, 20261203\.tar\.gz's SHA256SUMS says 0{64}\)/,
    );
    expect(await stack.catalog.listBySource("mismatch")).toEqual([]);
    expect(await storedFor("mismatch")).toEqual([]);
  });

  it("a file that is not an archive at all", async () => {
    const directory = await scratch("not-an-archive");
    const file = path.join(directory, "20261203.tar.gz");
    await mkdir(directory, { recursive: true });
    await writeFile(file, "this is not a tarball, just text that is long enough to look at".repeat(20));
    const result = await stack.cli(["push", file, "--source", "not-an-archive"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/refusing to push: 20261203\.tar\.gz is not a whole tar archive/);
    expect(await readFile(file, "utf-8")).toContain("not a tarball");
    expect(await storedFor("not-an-archive")).toEqual([]);
  });
});
