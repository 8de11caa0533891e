import { type Readable, Transform, type TransformCallback } from "node:stream";
import { AbortMultipartUploadCommand, type S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { isPreconditionFailed } from "../../shared/aws/s3-errors";
import { type S3Checksum, S3ChecksumHasher } from "../../shared/dumpset/s3-checksum";
import { RestorableError } from "../../shared/errors";

const MiB = 1024 * 1024;
export const UPLOAD_PART_SIZE = 8 * MiB;
export const UPLOAD_QUEUE_SIZE = 4;
/** S3 allows 10,000 parts; leave room so a file that grows a little while it is read still fits. */
const MAX_PARTS = 9_000;

/**
 * 8 MiB parts, 4 in flight, for a known size (larger parts past 70 GiB, so any size up to S3's
 * 5 TiB fits). A stream of unknown length (an archive, pg_dump) gets 16 MiB parts, 2 in flight:
 * the same ~32 MiB in memory, and room for 140 GiB.
 */
export function partPlan(expectedBytes: number | undefined): { partSize: number; queueSize: number } {
  if (expectedBytes === undefined) return { partSize: 16 * MiB, queueSize: 2 };
  const partSize = Math.max(UPLOAD_PART_SIZE, Math.ceil(expectedBytes / MAX_PARTS / MiB) * MiB);
  return { partSize, queueSize: UPLOAD_QUEUE_SIZE };
}

export class UploadError extends RestorableError {}

export interface UploadedObject {
  key: string;
  size: number;
  sha256: string;
  /** What S3 computed and verified for the upload: the service's own word on the bytes. */
  checksum: S3Checksum;
  versionId: string | undefined;
}

export interface HashingUploadOptions {
  s3: S3Client;
  bucket: string;
  key: string;
  body: Readable;
  contentType?: string;
  /** The body's size when known beforehand (a file); picks the part size. */
  expectedBytes?: number;
  /** Called with the number of bytes that just went through the hash (and on to the upload). */
  onBytes?: (bytes: number) => void;
  /**
   * Called once the source has ended and before the upload completes; throwing here aborts the
   * upload. Lets a producer (pg_dump) report a failure that arrives after its last byte.
   */
  beforeComplete?: () => Promise<void>;
  abortSignal?: AbortSignal;
}

/** The key already holds an object: a committed history is never replaced (the upload sends If-None-Match). */
export class ObjectExistsError extends RestorableError {
  constructor(readonly key: string) {
    super("object-exists", `${key} already exists and is never replaced`);
  }
}

/**
 * Streams `body` into a multipart upload while hashing it in the same pass: the whole object's SHA-256
 * and the checksum S3 computes for the upload (`ChecksumAlgorithm: SHA256`), which S3 verifies part by
 * part and reports back for the indexer to compare. The upload only creates the key (`If-None-Match: *`,
 * which the host policy requires): an existing object is refused with ObjectExistsError, never replaced.
 */
export async function uploadHashing(options: HashingUploadOptions): Promise<UploadedObject> {
  const plan = partPlan(options.expectedBytes);
  const hasher = new S3ChecksumHasher(plan.partSize);
  const hashing = new Transform({
    // Buffer as much as the source reads at once, so the hash stage does not stall reading ahead.
    highWaterMark: 2 * MiB,
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      hasher.update(chunk);
      options.onBytes?.(chunk.length);
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      if (!options.beforeComplete) return callback();
      options.beforeComplete().then(
        () => callback(),
        (error: Error) => callback(error),
      );
    },
  });
  options.body.on("error", (error) => hashing.destroy(error));
  options.body.pipe(hashing);

  const upload = new Upload({
    client: options.s3,
    params: {
      Bucket: options.bucket,
      Key: options.key,
      Body: hashing,
      ContentType: options.contentType ?? "application/octet-stream",
      ChecksumAlgorithm: "SHA256",
      IfNoneMatch: "*",
    },
    ...plan,
    leavePartsOnError: false,
    ...(options.abortSignal ? { abortController: abortControllerFor(options.abortSignal) } : {}),
  });
  let versionId: string | undefined;
  try {
    const result = await upload.done();
    versionId = result.VersionId;
  } catch (error) {
    // On abort, lib-storage rejects at once and aborts the multipart upload only once its part uploads
    // settle, which a process exiting on Ctrl-C never sees: abort it here, so no parts stay behind.
    if (options.abortSignal?.aborted && upload.uploadId) {
      await options.s3
        .send(new AbortMultipartUploadCommand({ Bucket: options.bucket, Key: options.key, UploadId: upload.uploadId }))
        .catch(() => undefined);
    }
    if (isPreconditionFailed(error)) throw new ObjectExistsError(options.key);
    throw new UploadError("upload-failed", `upload of ${options.key} failed`, { cause: error });
  }
  const { sha256, checksum, size } = hasher.digest();
  return { key: options.key, size, sha256, checksum, versionId };
}

/**
 * Hashes a body exactly as `uploadHashing` would, without uploading it: what a resumed push compares with
 * an object an interrupted push already uploaded.
 */
export async function hashLikeUpload(
  body: Readable,
  expectedBytes: number | undefined,
  onBytes?: (bytes: number) => void,
): Promise<{ size: number; sha256: string; checksum: S3Checksum }> {
  const hasher = new S3ChecksumHasher(partPlan(expectedBytes).partSize);
  for await (const chunk of body) {
    hasher.update(chunk as Buffer);
    onBytes?.((chunk as Buffer).length);
  }
  return hasher.digest();
}

function abortControllerFor(signal: AbortSignal): AbortController {
  const controller = new AbortController();
  if (signal.aborted) controller.abort(signal.reason);
  else signal.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
  return controller;
}
