import { describe, expect, it } from "vitest";
import { MANIFEST_FORMAT, SetManifestSchema } from "../../shared/dumpset/manifest";

const valid = {
  format: MANIFEST_FORMAT,
  source: "codebolt-prod",
  set_id: "20250304T050607Z-0123456789ab",
  created_at: "2025-03-04T05:06:07Z",
  hostname: "db1",
  server_version: null,
  master_key_id: "mk-1",
  tags: [],
  components: [
    {
      name: "main.dump",
      key: "sets/codebolt-prod/20250304T050607Z-0123456789ab/main.dump",
      kind: "pg-dump",
      size: 10,
      sha256: "a".repeat(64),
    },
  ],
  host_manifest: null,
  uploader: { program: "restorable", version: "0.1.0" },
};

describe("the set manifest schema", () => {
  it("accepts a manifest as push writes it", () => {
    expect(SetManifestSchema.safeParse(valid).success).toBe(true);
  });

  it("accepts a helper's archive with its table of contents, and keeps the contents through parsing", () => {
    const archive = {
      ...valid.components[0],
      name: "20261203.tar.gz",
      kind: "archive",
      contents: [
        { path: "main.dump", type: "file", size: 10 },
        { path: "shadow-git", type: "directory", size: 20, files: 3 },
      ],
    };
    const parsed = SetManifestSchema.parse({ ...valid, components: [archive] });
    expect(parsed.components[0]?.contents).toEqual(archive.contents);
    // A manifest without contents (every other kind, every earlier push) reads as before.
    expect(SetManifestSchema.parse(valid).components[0]).not.toHaveProperty("contents");
  });

  it("rejects duplicate component names", () => {
    const component = valid.components[0];
    const result = SetManifestSchema.safeParse({ ...valid, components: [component, component] });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain("duplicate component name");
  });

  it("rejects a checksum that is not a SHA-256 and a set without components", () => {
    expect(
      SetManifestSchema.safeParse({ ...valid, components: [{ ...valid.components[0], sha256: "abc" }] }).success,
    ).toBe(false);
    expect(SetManifestSchema.safeParse({ ...valid, components: [] }).success).toBe(false);
  });
});
