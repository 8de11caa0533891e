import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { resticRepositoryPrefix } from "../contracts/layout";

/** A repository's key files, read from the bucket one at a time (only as many as it takes to open one). */
export async function* repositoryKeyFiles(s3: S3Client, bucket: string, repository: string): AsyncIterable<Uint8Array> {
  const prefix = `${resticRepositoryPrefix(repository)}keys/`;
  let continuationToken: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: continuationToken }),
    );
    for (const object of page.Contents ?? []) {
      const body = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }));
      yield (await body.Body?.transformToByteArray()) ?? new Uint8Array();
    }
    continuationToken = page.NextContinuationToken;
  } while (continuationToken);
}
