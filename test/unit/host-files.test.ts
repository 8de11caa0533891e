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
});
