import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPOSITORY_ROOT } from "../../cli/local/paths";

const CLI = path.join(REPOSITORY_ROOT, "cli", "bin", "restorable.mjs");
const scratch = mkdtempSync(path.join(tmpdir(), "restorable-cli-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * Runs the real CLI, as a user would, with no deployment anywhere: every case below is refused before the
 * CLI looks for one (an empty working directory has no .restorable/local.json, no RESTORABLE_* is set).
 */
function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("RESTORABLE_")));
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { cwd: scratch, env }, (_error, stdout, stderr) =>
      resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

describe.concurrent("usage errors exit 2 with the message and the command's usage", () => {
  it.each([
    ["an unknown option", ["catalog", "list", "--no-such-flag"], "error: unknown option '--no-such-flag'"],
    ["a missing mandatory option", ["push", "/tmp"], "error: required option '--source <name>' not specified"],
    ["a missing argument", ["restic", "reindex"], "error: missing required argument 'name'"],
    ["an invalid argument", ["alerts", "--limit", "many"], "argument 'many' is invalid"],
    ["excess arguments", ["catalog", "tag", "a", "b"], "error: too many arguments for 'tag'"],
    ["an unknown command", ["catalogue"], "error: unknown command 'catalogue'"],
    [
      "set-policy without --source or --repo",
      ["retention", "set-policy", "--keep-last", "3"],
      "error: give exactly one of --source and --repo",
    ],
    [
      "set-policy with both --source and --repo",
      ["retention", "set-policy", "--source", "s", "--repo", "r", "--keep-last", "3"],
      "error: give exactly one of --source and --repo",
    ],
    ["set-policy without a --keep-* flag", ["retention", "set-policy", "--source", "s"], "give at least one --keep-*"],
    [
      "show-policy without --source or --repo",
      ["retention", "show-policy"],
      "error: give exactly one of --source and --repo",
    ],
    [
      "unset-policy with both --source and --repo",
      ["retention", "unset-policy", "--source", "s", "--repo", "r"],
      "error: give exactly one of --source and --repo",
    ],
    ["plan with both --source and --repo", ["retention", "plan", "--source", "s", "--repo", "r"], "not both"],
    [
      "restore --pg-restore without the one dump to restore",
      ["restore", "20261203T020000Z", "--pg-restore", "postgresql:///codebolt_tmp"],
      "error: --pg-restore takes the one dump to restore: --only main.dump",
    ],
    [
      "restore --pg-restore with --to",
      ["restore", "20261203", "--only", "main.dump", "--pg-restore", "codebolt_tmp", "--to", "/tmp/x"],
      "error: --pg-restore writes nothing to disk: leave out --to",
    ],
  ])("%s", async (_case, args, message) => {
    const result = await cli(...args);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toMatch(/^Usage: restorable /m);
    expect(result.stdout).toBe("");
  });

  it.each([[["--help"]], [["--version"]], [["retention", "plan", "--help"]]])("%j exits 0", async (args) => {
    const result = await cli(...args);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toBe("");
  });
});

const GROUP_BY =
  "restorable: --group-by is not supported by retention: each source is one restic group (as restorable restic " +
  "add-repo --group-by formed it); retention applies per source\n";

describe.concurrent("retention refuses --group-by, which it would otherwise ignore", () => {
  it.each([
    [["retention", "plan", "--group-by", "host"]],
    [["retention", "plan", "--source", "s", "-g", "host,tags", "--json"]],
    [["retention", "set-policy", "--source", "s", "--keep-last", "3", "--group-by", "host"]],
    [["retention", "set-policy", "--repo", "r", "--keep-daily", "7", "-g", ""]],
  ])("%j: one line, exit 2", async (args) => {
    const result = await cli(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(GROUP_BY);
    expect(result.stdout).toBe("");
  });

  it("does not offer it in help", async () => {
    const help = await cli("retention", "plan", "--help");
    expect(help.stdout).toContain("--keep-tag");
    expect(help.stdout).not.toContain("--group-by");
  });
});

describe.concurrent("push of a path that is not a directory", () => {
  it("says there is no such directory, exit 2", async () => {
    const result = await cli("push", "/no/such/dir", "--source", "s");
    expect(result).toMatchObject({ code: 2, stdout: "", stderr: "restorable: no such directory: /no/such/dir\n" });
  });

  it("says so when a component of the path is a file, exit 2", async () => {
    const file = path.join(scratch, "backup.txt");
    writeFileSync(file, "not a directory");
    expect(await cli("push", path.join(file, "inside"), "--source", "s")).toMatchObject({
      code: 2,
      stderr: `restorable: no such directory: ${path.join(file, "inside")}\n`,
    });
    expect(await cli("push", file, "--source", "s")).toMatchObject({
      code: 2,
      stderr: `restorable: not a directory, nor a .tar.gz, .tgz or .tar archive: ${file}\n`,
    });
  });

  it("says there is no such file for a missing archive, exit 2", async () => {
    const result = await cli("push", "/backups/codebolt/20261203.tar.gz", "--source", "s");
    expect(result).toMatchObject({ code: 2, stderr: "restorable: no such file: /backups/codebolt/20261203.tar.gz\n" });
  });
});
