import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { restoredName, selectComponents } from "../../cli/restore/restore-set";
import type { CatalogComponent, DumpSetEntry } from "../../shared/catalog/entry";
import { ComponentMismatchError, streamComponent } from "../../shared/dumpset/component-stream";
import { fullObjectChecksum } from "../../shared/dumpset/s3-checksum";

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

function component(
  name: string,
  kind: CatalogComponent["kind"],
  extra: Partial<CatalogComponent> = {},
): CatalogComponent {
  return {
    name,
    key: `sets/s/20261203T020000Z-0123456789ab/${name}`,
    kind,
    size: 1,
    sha256: "0".repeat(64),
    versionId: "v1",
    healedVersionId: null,
    ...extra,
  };
}

const directorySet = {
  id: "20261203T020000Z-0123456789ab",
  components: [
    component("SHA256SUMS", "file"),
    component("kg.tar.gz", "directory-archive"),
    component("main.dump", "pg-dump"),
    component("shadow-git.tar.gz", "directory-archive"),
  ],
} as DumpSetEntry;

const archiveSet = {
  id: "20261203T020000Z-ba9876543210",
  components: [
    component("20261203.tar.gz", "archive", {
      contents: [
        { path: "20261203/main.dump", type: "file", size: 10 },
        { path: "20261203/shadow-git", type: "directory", size: 10, files: 2 },
      ],
    }),
  ],
} as DumpSetEntry;

describe("what --only selects", () => {
  it("everything by default, in the set's order", () => {
    expect(selectComponents(directorySet, []).map((s) => s.component.name)).toEqual([
      "SHA256SUMS",
      "kg.tar.gz",
      "main.dump",
      "shadow-git.tar.gz",
    ]);
  });

  it("components by their name or the directory they restore to, in the set's order", () => {
    const selected = selectComponents(directorySet, ["shadow-git", "main.dump", "kg.tar.gz"]);
    expect(selected.map((s) => [s.component.name, s.entries])).toEqual([
      ["kg.tar.gz", undefined],
      ["main.dump", undefined],
      ["shadow-git.tar.gz", undefined],
    ]);
    expect(selected.map((s) => restoredName(s.component))).toEqual(["kg", "main.dump", "shadow-git"]);
  });

  it("entries of a set that is one archive, by path or by file name", () => {
    expect(selectComponents(archiveSet, ["main.dump", "20261203/shadow-git"])).toEqual([
      { component: archiveSet.components[0], entries: ["20261203/main.dump", "20261203/shadow-git"] },
    ]);
  });

  it("refuses a name the set does not hold, saying what it holds", () => {
    expect(() => selectComponents(directorySet, ["vectordb"])).toThrow(
      `${directorySet.id} has no component vectordb; it holds SHA256SUMS, kg.tar.gz, main.dump, shadow-git.tar.gz`,
    );
  });
});

describe("reading a component at its pinned version", () => {
  const s3 = mockClient(S3Client);
  afterEach(() => s3.reset());
  const committed = Buffer.from("the committed bytes ".repeat(1000));
  const recorded = component("main.dump", "pg-dump", {
    size: committed.length,
    sha256: sha256(committed),
    checksum: { algorithm: "SHA256", value: Buffer.alloc(32, 1).toString("base64"), parts: 3 },
  });
  const read = async (body: Buffer, extra: Record<string, unknown> = {}) => {
    s3.on(GetObjectCommand).resolves({ Body: Readable.from([body]) as never, ContentLength: body.length, ...extra });
    const stream = await streamComponent({ s3: new S3Client({}), bucket: "b", component: recorded });
    const chunks: Buffer[] = [];
    for await (const chunk of stream.stream) chunks.push(chunk as Buffer);
    return { bytes: Buffer.concat(chunks), verified: await stream.verified };
  };

  it("asks for exactly the pinned version and passes its bytes on once they hash as recorded", async () => {
    const { bytes, verified } = await read(committed, { ChecksumSHA256: `${recorded.checksum?.value}-3` });
    expect(bytes.equals(committed)).toBe(true);
    expect(verified).toEqual({ sha256: recorded.sha256, size: committed.length });
    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input).toMatchObject({
      Key: recorded.key,
      VersionId: "v1",
      ChecksumMode: "ENABLED",
    });
  });

  it("fails at the end, naming the component, when the bytes are not the committed ones", async () => {
    const other = Buffer.from(committed);
    other.writeUInt8(other.readUInt8(10) ^ 1, 10);
    const failure = await read(other).catch((error: Error) => error);
    expect(failure).toBeInstanceOf(ComponentMismatchError);
    expect((failure as ComponentMismatchError).component).toBe("main.dump");
    expect((failure as Error).message).toMatch(
      /^main\.dump: version v1 of .* does not hold the committed bytes: \d+ bytes with SHA-256 [0-9a-f]{64}, the set recorded/,
    );
  });

  it("fails before reading when S3's size or checksum of the version differs from the record", async () => {
    await expect(read(committed.subarray(1))).rejects.toThrow(
      /^main\.dump: version v1 of .* is 19999 bytes, the set recorded 20000/,
    );
    await expect(read(committed, { ChecksumSHA256: fullObjectChecksum(sha256("other")).value })).rejects.toThrow(
      /^main\.dump: S3 checksums version v1 of .* as SHA256 .*, the set recorded SHA256 .* \(3 parts\)/,
    );
  });
});
