import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { isMissingObject, isPreconditionFailed } from "../aws/s3-errors";
import { commitRequestKey, manifestKey } from "../contracts/layout";
import type { IndexerDependencies, ObjectOutcome } from "./ports";

/** A manifest is a few kilobytes; a commit request larger than this is not one. */
const MAX_MANIFEST_BYTES = 1024 * 1024;

/**
 * Commits a host's set: writes the manifest the host sent to incoming/ into the set's prefix, only if
 * the set has none, then removes the request. Hosts may write a set's components but never the
 * committed manifest (their policy denies it outright), so a compromised host cannot rewrite a set
 * that is already committed; whatever it sends is judged by the indexer like any manifest.
 */
export async function commitSet(source: string, setId: string, deps: IndexerDependencies): Promise<ObjectOutcome> {
  const requestKey = commitRequestKey(source, setId);
  const request = await read(deps.s3, deps.bucket, requestKey);
  if (!request) return { key: requestKey, outcome: "ignored", reason: "the commit request was already handled" };
  const committedKey = manifestKey(source, setId);
  if (request.length > MAX_MANIFEST_BYTES) {
    await deps.problems.record(
      requestKey,
      `a commit request of ${request.length} bytes is larger than any manifest`,
      deps.now(),
    );
  } else {
    try {
      await deps.s3.send(
        new PutObjectCommand({
          Bucket: deps.bucket,
          Key: committedKey,
          Body: request,
          ContentType: "application/json",
          IfNoneMatch: "*",
        }),
      );
      deps.log.info("committed a set", { source, setId });
    } catch (error) {
      if (!isPreconditionFailed(error)) throw error;
      // Already committed: the same manifest again is a retried push; anything else is refused.
      const committed = await read(deps.s3, deps.bucket, committedKey);
      if (!committed || Buffer.compare(Buffer.from(committed), Buffer.from(request)) !== 0) {
        await deps.problems.record(
          requestKey,
          `refused a different manifest for set ${setId} of ${source}, which is already committed`,
          deps.now(),
        );
        deps.log.warn("refused to replace a committed manifest", { source, setId });
      }
    }
  }
  await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.bucket, Key: requestKey }));
  return {
    key: requestKey,
    outcome: "ignored",
    reason: "commit request handled; the manifest's own event indexes the set",
  };
}

async function read(s3: S3Client, bucket: string, key: string): Promise<Uint8Array | undefined> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await object.Body?.transformToByteArray()) ?? new Uint8Array();
  } catch (error) {
    if (isMissingObject(error)) return undefined;
    throw error;
  }
}
