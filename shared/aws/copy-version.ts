import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { mapConcurrently } from "../concurrency";

/** CopyObject copies at most 5 GiB; larger objects go part by part. */
const COPY_OBJECT_LIMIT = 5 * 1024 ** 3;
const COPY_PART_SIZE = 512 * 1024 ** 2;

export interface CopiedVersion {
  versionId: string | undefined;
  /** S3's full-object SHA-256 of the copy (a single CopyObject), to check the copy against what was committed. */
  checksumSHA256: string | undefined;
}

/**
 * Makes an earlier version of a key current again by copying it onto the key: a new version with the same
 * bytes, every other version left as it was (nothing is deleted). Tags are not copied.
 */
export async function copyVersionOver(
  s3: S3Client,
  bucket: string,
  key: string,
  versionId: string,
  size: number,
): Promise<CopiedVersion> {
  const source = `${bucket}/${encodeURIComponent(key).replace(/%2F/g, "/")}?versionId=${encodeURIComponent(versionId)}`;
  if (size <= COPY_OBJECT_LIMIT) {
    const copied = await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: key,
        CopySource: source,
        ChecksumAlgorithm: "SHA256",
        TaggingDirective: "REPLACE",
      }),
    );
    return { versionId: copied.VersionId, checksumSHA256: copied.CopyObjectResult?.ChecksumSHA256 };
  }
  const upload = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: "SHA256" }),
  );
  const parts = await mapConcurrently(copyRanges(size), 4, async (range, index) => {
    const part = await s3.send(
      new UploadPartCopyCommand({
        Bucket: bucket,
        Key: key,
        UploadId: upload.UploadId,
        PartNumber: index + 1,
        CopySource: source,
        CopySourceRange: `bytes=${range.start}-${range.end}`,
      }),
    );
    return {
      PartNumber: index + 1,
      ETag: part.CopyPartResult?.ETag,
      ChecksumSHA256: part.CopyPartResult?.ChecksumSHA256,
    };
  });
  const completed = await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId: upload.UploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
  return { versionId: completed.VersionId, checksumSHA256: undefined };
}

/** Inclusive byte ranges of COPY_PART_SIZE covering `size` bytes. */
export function copyRanges(size: number): { start: number; end: number }[] {
  const ranges: { start: number; end: number }[] = [];
  for (let start = 0; start < size; start += COPY_PART_SIZE) {
    ranges.push({ start, end: Math.min(size, start + COPY_PART_SIZE) - 1 });
  }
  return ranges;
}
