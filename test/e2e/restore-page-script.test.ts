import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import type { DumpSetEntry } from "../../shared/catalog/entry";
import { PAGE_SCRIPT, pageScript, runPageScript, type ScriptRun } from "../support/backup-page";
import { binary, postgresAt } from "../support/postgres";
import { startTestStack, type TestStack } from "../support/stack";
import { run } from "../support/tools";

let stack: TestStack;
let backup: ScriptRun;
let setId: string;
const postgres = () => postgresAt(inject("postgresPort"));

beforeAll(async () => {
  stack = await startTestStack("restore-page");
  backup = await runPageScript(postgres(), 1500);
  const pushed = await stack.cli(["push", backup.directory, "--source", "codebolt-prod", "--json"]);
  expect(pushed.code, pushed.stderr).toBe(0);
  setId = JSON.parse(pushed.stdout).setId;
  await stack.pump.drain();
});

const scratch = (label: string) => mkdtemp(path.join(tmpdir(), `restorable-${label}-`));

/** `diff -r` exits 0 and prints nothing for identical trees; symlinks are compared as links. */
async function diffTrees(a: string, b: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run("diff", ["-r", "--no-dereference", a, b]);
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

async function rowCount(database: string): Promise<string> {
  return (await postgres().sql(database, "SELECT count(*) FROM codebolt.persistent_memory")).trim();
}

describe("the backup page's script, pushed and restored", () => {
  it("runs the page's script verbatim (the fixture is the page's text)", async () => {
    const page = pageScript();
    // The seed pages sit beside the repository in this workspace; elsewhere the fixture stands alone.
    if (page !== undefined) expect(await readFile(PAGE_SCRIPT, "utf-8")).toBe(page);
    const entry = (await stack.catalog.getBackup(setId)) as DumpSetEntry;
    expect(entry).toMatchObject({
      status: "COMPLETE",
      serverVersion: "codebolt-server 1.4.2",
      masterKeyId: "mk-2026-12",
    });
  });

  it("restores to a new directory identical to what the script wrote, and main.dump restores the rows", async () => {
    const to = path.join(await scratch("restore"), "restored");
    // Any unique start of the id does.
    const restored = await stack.cli(["restore", setId.slice(0, 20), "--to", to, "--json"]);
    expect(restored.code, restored.stderr).toBe(0);
    const summary = JSON.parse(restored.stdout);
    expect(summary).toMatchObject({ id: setId, to });
    expect(summary.components.map((c: { name: string; restoredAs: string[] }) => [c.name, c.restoredAs])).toEqual([
      ["SHA256SUMS", ["SHA256SUMS"]],
      ["capabilities.tar.gz", ["capabilities"]],
      ["codebolt-server.yaml", ["codebolt-server.yaml"]],
      ["kg.tar.gz", ["kg"]],
      ["main.dump", ["main.dump"]],
      ["manifest.txt", ["manifest.txt"]],
      ["master-key-id.txt", ["master-key-id.txt"]],
      ["shadow-git.tar.gz", ["shadow-git"]],
      ["vectordb.tar.gz", ["vectordb"]],
    ]);

    // Same tree, same bytes: the archives' own metadata (owners, modes, times) is all that may differ.
    expect(await diffTrees(backup.directory, to)).toEqual({ code: 0, output: "" });
    expect((await readdir(to)).sort()).toEqual((await readdir(backup.directory)).sort());

    // The page's "Restore the database" step, on the restored file.
    const fresh = await postgres().createDatabase("restored");
    await run(binary("pg_restore"), ["-d", postgres().url(fresh), path.join(to, "main.dump")]);
    expect(await rowCount(fresh)).toBe(String(backup.rows));
    // And the page's "sha256sum" line still checks, absolute path and all, against the restored dump.
    const sums = await readFile(path.join(to, "SHA256SUMS"), "utf-8");
    const { stdout } = await run("sha256sum", [path.join(to, "main.dump")]);
    expect(stdout.split(" ")[0]).toBe(sums.split(" ")[0]);
  });

  it("--only main.dump --pg-restore restores the database without writing anything to disk", async () => {
    const cwd = await scratch("pg-restore-cwd");
    const temp = await scratch("pg-restore-tmp");
    const target = await postgres().createDatabase("codebolt_tmp");
    const restored = await stack.cli(
      ["restore", setId, "--only", "main.dump", "--pg-restore", postgres().url(target), "--json"],
      { cwd, env: { TMPDIR: temp, PATH: [path.dirname(binary("pg_restore")), process.env.PATH].join(path.delimiter) } },
    );
    expect(restored.code, restored.stderr).toBe(0);
    expect(JSON.parse(restored.stdout)).toMatchObject({ id: setId, component: "main.dump", entry: null });
    expect(await rowCount(target)).toBe(String(backup.rows));
    expect(await readdir(cwd)).toEqual([]);
    // (tsx keeps its compile cache there when the CLI runs from its sources rather than the bundle.)
    expect((await readdir(temp)).filter((name) => !name.startsWith("tsx-"))).toEqual([]);
  });

  it("--only restores part of the set, by component or by the directory it restores to", async () => {
    const to = await scratch("only");
    const restored = await stack.cli(["restore", setId, "--to", to, "--only", "main.dump", "--only", "shadow-git"]);
    expect(restored.code, restored.stderr).toBe(0);
    expect((await readdir(to)).sort()).toEqual(["main.dump", "shadow-git"]);
    expect(await diffTrees(path.join(backup.directory, "shadow-git"), path.join(to, "shadow-git"))).toEqual({
      code: 0,
      output: "",
    });
    expect(restored.stdout).toContain(`pg_restore -d codebolt ${path.join(to, "main.dump")}`);
  });
});
