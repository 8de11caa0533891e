import { ListObjectVersionsCommand, PutObjectTaggingCommand, type S3Client } from "@aws-sdk/client-s3";
import { RELEASE_TAG } from "../contracts/storage-policy";

/** A version nobody pins any more may expire once noncurrent (see RELEASE_TAG in contracts/storage-policy.ts). */
export async function releaseVersion(s3: S3Client, bucket: string, key: string, versionId: string): Promise<void> {
  await s3.send(
    new PutObjectTaggingCommand({
      Bucket: bucket,
      Key: key,
      VersionId: versionId,
      Tagging: { TagSet: [{ ...RELEASE_TAG }] },
    }),
  );
}

/** Releases every version under a prefix (a set retention removes): after the grace period they all go. */
export async function releaseAllVersions(s3: S3Client, bucket: string, prefix: string): Promise<number> {
  let released = 0;
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: bucket,
        Prefix: prefix,
        KeyMarker: keyMarker,
        VersionIdMarker: versionIdMarker,
      }),
    );
    for (const version of page.Versions ?? []) {
      if (!version.Key || !version.VersionId) continue;
      await releaseVersion(s3, bucket, version.Key, version.VersionId);
      released++;
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    versionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (keyMarker);
  return released;
}
