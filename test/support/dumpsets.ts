import { createHash } from "node:crypto";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { componentKey, makeSetId, manifestKey } from "../../shared/contracts/layout";
import { MANIFEST_FORMAT, type ManifestComponent, type SetManifest } from "../../shared/dumpset/manifest";
import { SHA256_TAG } from "../../shared/dumpset/object-tags";
import { fullObjectChecksum } from "../../shared/dumpset/s3-checksum";

export const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");

/** A set written straight into the bucket, component by component, the way push writes it. */
export class SetWriter {
  readonly setId: string;
  readonly components: ManifestComponent[];

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    readonly source: string,
    readonly files: Record<string, string | Buffer>,
    readonly createdAt = new Date("2025-06-01T02:00:00Z"),
  ) {
    this.setId = makeSetId(createdAt, sha256(`${source}${Math.random()}`));
    this.components = Object.entries(files).map(([name, body]) => ({
      name,
      key: componentKey(source, this.setId, name),
      kind: "file" as const,
      size: Buffer.byteLength(body),
      sha256: sha256(body),
      // A single PUT: S3's checksum is the object's full SHA-256.
      checksum: fullObjectChecksum(sha256(body)),
    }));
  }

  get manifestKey(): string {
    return manifestKey(this.source, this.setId);
  }

  manifest(overrides: Partial<SetManifest> = {}): SetManifest {
    return {
      format: MANIFEST_FORMAT,
      source: this.source,
      set_id: this.setId,
      created_at: this.createdAt.toISOString(),
      hostname: "db1",
      server_version: "1.0.0",
      master_key_id: "mk-1",
      tags: ["env:test"],
      components: this.components,
      host_manifest: null,
      uploader: { program: "restorable", version: "test" },
      ...overrides,
    };
  }

  /** As push uploads it: S3 computes (and, on real S3, verifies) the SHA-256 checksum of the body. */
  async putComponent(name: string, body: string | Buffer = this.files[name] ?? ""): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: componentKey(this.source, this.setId, name),
        Body: body,
        ChecksumAlgorithm: "SHA256",
      }),
    );
  }

  /**
   * As an uploader before 0.2 did: no S3 checksum, the SHA-256 in a tag, and a manifest without checksums
   * (`legacyManifest`).
   */
  async putLegacyComponent(
    name: string,
    body: string | Buffer = this.files[name] ?? "",
    recordedSha = sha256(body),
  ): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: componentKey(this.source, this.setId, name),
        Body: body,
        Tagging: `${SHA256_TAG}=${recordedSha}`,
      }),
    );
  }

  legacyManifest(overrides: Partial<SetManifest> = {}): SetManifest {
    return this.manifest({ components: this.components.map(({ checksum: _, ...legacy }) => legacy), ...overrides });
  }

  async putAllComponents(): Promise<void> {
    for (const name of Object.keys(this.files)) await this.putComponent(name);
  }

  async putManifest(body: string | SetManifest = this.manifest()): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.manifestKey,
        Body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    );
  }
}
