import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { checksumPathToName, parseChecksums, parseHostManifest } from "../../shared/dumpset/host-files";

const HASH = "5e169274eeee68015386bb99f7b4984dcaf15ef17c87ccf851409781cf0c00d9";

describe("SHA256SUMS written by sha256sum", () => {
  it("reads text and binary mode lines, including the seed script's absolute paths", () => {
    const lines = parseChecksums(
      `${HASH}  /backups/codebolt/20250101_020000/main.dump\n${HASH.toUpperCase()} *config.yaml\n`,
    );
    expect(lines).toEqual([
      { sha256: HASH, path: "/backups/codebolt/20250101_020000/main.dump" },
      { sha256: HASH, path: "config.yaml" },
    ]);
    expect(lines.map((line) => checksumPathToName(line.path))).toEqual(["main.dump", "config.yaml"]);
  });

  it("unescapes names that sha256sum escaped", () => {
    expect(parseChecksums(`\\${HASH}  odd\\\\name\n`)).toEqual([{ sha256: HASH, path: "odd\\name" }]);
  });

  it("reads the BSD form that sha256sum --tag writes and sha256sum -c accepts", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sums-"));
    writeFileSync(path.join(dir, "main.dump"), "PGDMP");
    writeFileSync(path.join(dir, "config.yaml"), "a: 1\n");
    const tagged = execFileSync("sha256sum", ["--tag", "main.dump", "config.yaml"], { cwd: dir, encoding: "utf-8" });
    const plain = execFileSync("sha256sum", ["main.dump", "config.yaml"], { cwd: dir, encoding: "utf-8" });
    expect(tagged).toMatch(/^SHA256 \(main\.dump\) = [0-9a-f]{64}$/m);
    expect(parseChecksums(tagged)).toEqual(parseChecksums(plain));
    expect(parseChecksums(`SHA256 (/backups/x/main.dump) = ${HASH.toUpperCase()}\r\n`)).toEqual([
      { sha256: HASH, path: "/backups/x/main.dump" },
    ]);
  });

  it("rejects a line that is not a checksum, naming the line", () => {
    expect(() => parseChecksums(`${HASH}  main.dump\nnot a checksum\n`)).toThrow(/line 2/);
  });
});

describe("the seed's manifest.txt", () => {
  it("reads key: value lines and keeps colons inside values", () => {
    const text =
      "timestamp: 2025-01-01T02:00:00Z\nhostname: db1\nserver_version: codebolt 1.4.2\nshadow_git_size: 12G\t/var/lib\n";
    expect(parseHostManifest(text)).toEqual({
      timestamp: "2025-01-01T02:00:00Z",
      hostname: "db1",
      server_version: "codebolt 1.4.2",
      shadow_git_size: "12G\t/var/lib",
    });
  });

  it("reads a manifest written as JSON (a helper's manifest.json): its top-level values", () => {
    const text = JSON.stringify({ timestamp: "2026-12-03T02:00:00Z", hostname: "cb1", size: 12, nested: { a: 1 } });
    expect(parseHostManifest(text)).toEqual({ timestamp: "2026-12-03T02:00:00Z", hostname: "cb1", size: "12" });
  });
});
