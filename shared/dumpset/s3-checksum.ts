import { createHash, type Hash } from "node:crypto";
import * as z from "zod";

/**
 * The SHA-256 checksum S3 itself computes and verifies for an object (`ChecksumAlgorithm: SHA256`) and
 * reports on HeadObject with `ChecksumMode: ENABLED`: the service's own word on the bytes, which a host
 * cannot rewrite the way it can rewrite a tag. A single PUT gets the object's full SHA-256; a multipart
 * upload gets the composite one, the SHA-256 of its parts' SHA-256s, which real S3 reports as
 * `<base64>-<parts>` (the emulator leaves the suffix off).
 */
export const S3ChecksumSchema = z.object({
  algorithm: z.literal("SHA256"),
  /** base64, as S3 spells it, without the -N suffix. */
  value: z.base64().length(44),
  /** 0 for a full-object checksum (a single PUT), else the number of parts of the composite. */
  parts: z.number().int().min(0).max(10_000),
});
export type S3Checksum = z.infer<typeof S3ChecksumSchema>;

/** Hex SHA-256 (as manifests record it) as S3 spells a full-object checksum. */
export function fullObjectChecksum(sha256Hex: string): S3Checksum {
  return { algorithm: "SHA256", value: Buffer.from(sha256Hex, "hex").toString("base64"), parts: 0 };
}

/**
 * Hashes a stream the way S3 will checksum its upload, in the same pass as the whole-object SHA-256: part
 * digests at every `partSize` bytes, as lib-storage cuts the parts. A body no longer than one part goes up
 * as a single PUT, so its checksum is the full object's.
 */
export class S3ChecksumHasher {
  private readonly whole = createHash("sha256");
  private part: Hash = createHash("sha256");
  private partBytes = 0;
  private readonly partDigests: Buffer[] = [];
  private total = 0;

  constructor(private readonly partSize: number) {}

  update(chunk: Uint8Array): void {
    this.whole.update(chunk);
    this.total += chunk.length;
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(this.partSize - this.partBytes, chunk.length - offset);
      this.part.update(chunk.subarray(offset, offset + take));
      this.partBytes += take;
      offset += take;
      if (this.partBytes === this.partSize) this.closePart();
    }
  }

  /** The whole object's SHA-256 (hex) and the checksum S3 will report for the upload. */
  digest(): { sha256: string; checksum: S3Checksum; size: number } {
    const sha256 = this.whole.digest("hex");
    if (this.partBytes > 0) this.closePart();
    if (this.total <= this.partSize) return { sha256, checksum: fullObjectChecksum(sha256), size: this.total };
    const composite = createHash("sha256").update(Buffer.concat(this.partDigests)).digest("base64");
    return {
      sha256,
      checksum: { algorithm: "SHA256", value: composite, parts: this.partDigests.length },
      size: this.total,
    };
  }

  private closePart(): void {
    this.partDigests.push(this.part.digest());
    this.part = createHash("sha256");
    this.partBytes = 0;
  }
}

/** S3's ChecksumSHA256 as HeadObject reports it (`abc…=`, or `abc…=-3` for a composite), parsed. */
export function parseReportedChecksum(reported: string | undefined): { value: string; parts: number | null } | null {
  if (!reported) return null;
  const match = /^([A-Za-z0-9+/]{43}=)(?:-(\d+))?$/.exec(reported);
  if (!match) return null;
  return { value: match[1] as string, parts: match[2] === undefined ? null : Number(match[2]) };
}

/**
 * Whether what S3 reports matches the recorded checksum. The value must be equal; a part count S3 reports
 * must be the recorded one (the emulator reports none, real S3 always does for a composite).
 */
export function sameChecksum(recorded: S3Checksum, reported: string | undefined): boolean {
  const parsed = parseReportedChecksum(reported);
  if (!parsed || parsed.value !== recorded.value) return false;
  return parsed.parts === null || parsed.parts === recorded.parts;
}

/** For reasons and alerts: `SHA256 abc…= (3 parts)`. */
export function describeChecksum(checksum: S3Checksum | string | undefined): string {
  if (checksum === undefined) return "none";
  if (typeof checksum === "string") return `SHA256 ${checksum}`;
  return `SHA256 ${checksum.value}${checksum.parts > 0 ? ` (${checksum.parts} parts)` : ""}`;
}
