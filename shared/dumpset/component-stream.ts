import { createHash } from "node:crypto";
import { type Readable, Transform, type TransformCallback } from "node:stream";
import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from "@aws-sdk/client-s3";
import { isMissingObject } from "../aws/s3-errors";
import { describeError, RestorableError } from "../errors";
import type { ManifestComponent } from "./manifest";
import { describeChecksum, sameChecksum } from "./s3-checksum";

/** A component's bytes are not the ones committed with its set: the message names the component. */
export class ComponentMismatchError extends RestorableError {
  constructor(
    readonly component: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super("component-mismatch", message, options);
  }
}

/** The component could not be read at all (network, permissions): nothing says its bytes are wrong. */
export class ComponentReadError extends RestorableError {}

/** What reading a component needs: the manifest's record and the version the catalog pinned. */
export type PinnedComponent = Pick<ManifestComponent, "name" | "key" | "size" | "sha256" | "checksum"> & {
  /** The S3 version committed with the set; null only for a set catalogued before versions were pinned. */
  versionId?: string | null;
};

export interface StreamComponentOptions {
  s3: S3Client;
  bucket: string;
  component: PinnedComponent;
  signal?: AbortSignal;
  /** Called with the number of bytes that just went through the hash. */
  onBytes?: (bytes: number) => void;
}

export interface ComponentStream {
  /**
   * The component's bytes, as they arrive. It ends only if they are exactly the committed ones (size and
   * SHA-256); otherwise it fails with a ComponentMismatchError instead of ending, after its last byte: a reader
   * must not treat what it wrote as complete before the stream has ended.
   */
  stream: Readable;
  /** The version read: the pinned one, or the current one for a set catalogued without pins. */
  versionId: string | null;
  /** Settles with the verified SHA-256 and size when the stream ends; rejects as the stream fails. */
  verified: Promise<{ sha256: string; size: number }>;
}

const MiB = 1024 * 1024;

/**
 * Reads one component of a dump set from the bucket: exactly its pinned version (`GetObject` with `VersionId`,
 * whatever was written to the key since), checking what S3 says of the version against the set's record
 * first (its size, and its checksum: S3's own word, free to compare) and the whole object's SHA-256 while
 * the bytes stream through, in bounded memory. Restores and drills read backups through this.
 */
export async function streamComponent(options: StreamComponentOptions): Promise<ComponentStream> {
  const { component } = options;
  const response = await getPinned(options);
  const body = response.Body as Readable | undefined;
  const fail = (message: string) => {
    body?.destroy();
    return new ComponentMismatchError(component.name, `${component.name}: ${message}`);
  };
  if (!body) throw fail("S3 returned no body");
  if (response.ContentLength !== undefined && response.ContentLength !== component.size) {
    throw fail(`${describeVersion(component)} is ${response.ContentLength} bytes, the set recorded ${component.size}`);
  }
  if (component.checksum && response.ChecksumSHA256 && !sameChecksum(component.checksum, response.ChecksumSHA256)) {
    throw fail(
      `S3 checksums ${describeVersion(component)} as ${describeChecksum(response.ChecksumSHA256)}, the set recorded ${describeChecksum(component.checksum)}`,
    );
  }

  let settle: { resolve(value: { sha256: string; size: number }): void; reject(error: Error): void } | undefined;
  const verified = new Promise<{ sha256: string; size: number }>((resolve, reject) => {
    settle = { resolve, reject };
  });
  verified.catch(() => {});
  const hash = createHash("sha256");
  let size = 0;
  const verifying = new Transform({
    highWaterMark: MiB,
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      hash.update(chunk);
      size += chunk.length;
      options.onBytes?.(chunk.length);
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      const sha256 = hash.digest("hex");
      if (size !== component.size || sha256 !== component.sha256) {
        return callback(
          fail(
            `${describeVersion(component)} does not hold the committed bytes: ${size} bytes with SHA-256 ${sha256}, ` +
              `the set recorded ${component.size} bytes with SHA-256 ${component.sha256}`,
          ),
        );
      }
      settle?.resolve({ sha256, size });
      callback();
    },
  });
  verifying.on("error", (error) => settle?.reject(error));
  body.on("error", (error) => {
    // The SDK checks a full-object checksum itself as the body ends, and fails the body when it differs.
    const damaged = /checksum/i.test(error.message);
    verifying.destroy(
      damaged
        ? new ComponentMismatchError(component.name, `${component.name}: ${describeError(error)}`, { cause: error })
        : new ComponentReadError("component-read-failed", `reading ${component.name} failed: ${describeError(error)}`, {
            cause: error,
          }),
    );
  });
  body.pipe(verifying);
  return { stream: verifying, versionId: response.VersionId ?? component.versionId ?? null, verified };
}

async function getPinned(options: StreamComponentOptions): Promise<GetObjectCommandOutput> {
  const { component } = options;
  try {
    return await options.s3.send(
      new GetObjectCommand({
        Bucket: options.bucket,
        Key: component.key,
        ...(component.versionId ? { VersionId: component.versionId } : {}),
        // S3 then reports its checksum of the version, compared with the recorded one before a byte is read.
        ChecksumMode: "ENABLED",
      }),
      options.signal ? { abortSignal: options.signal } : {},
    );
  } catch (error) {
    if (isMissingObject(error)) {
      throw new ComponentMismatchError(component.name, `${component.name}: ${describeVersion(component)} is missing`, {
        cause: error,
      });
    }
    throw new ComponentReadError(
      "component-read-failed",
      `could not read ${component.name} (${describeVersion(component)}): ${describeError(error)}`,
      { cause: error },
    );
  }
}

function describeVersion(component: PinnedComponent): string {
  return component.versionId
    ? `version ${component.versionId} of ${component.key}`
    : `${component.key} (current version)`;
}
