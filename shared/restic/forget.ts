import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { isMissingObject } from "../aws/s3-errors";
import { resticRepositoryPrefix } from "../contracts/layout";
import { describeError, RestorableError } from "../errors";
import type { MasterKey } from "./crypto";
import { decodeConfig, decodeLock, encodeLock, isStaleLock, type Lock, resticFileId } from "./files";
import { formatResticTime, parseResticTime } from "./time";

/** Another client holds a live lock: restic's protocol says wait, so this run does nothing. */
export class RepositoryLockedError extends RestorableError {
  constructor(message: string) {
    super("restic-repository-locked", message);
  }
}

export interface ForgetOptions {
  s3: S3Client;
  bucket: string;
  repository: string;
  key: MasterKey;
  snapshotIds: readonly string[];
  now: () => Date;
  /** Written into our lock so that `restic list locks` says who holds it. */
  holder: { hostname: string; username: string; pid: number };
}

/**
 * `restic forget` done from the cloud side, honouring restic's lock protocol: refuse while another
 * client holds a live lock, write an exclusive lock encrypted with the repository key, look again
 * (another client may have locked at the same moment), delete the snapshot files, and always remove
 * our lock. Stale locks (restic: not refreshed for 30 minutes) do not block, and are left for
 * `restic unlock`, as they are not ours.
 */
export async function forgetSnapshots(options: ForgetOptions): Promise<string[]> {
  const prefix = resticRepositoryPrefix(options.repository);
  const version = decodeConfig(options.key, await readBytes(options.s3, options.bucket, `${prefix}config`)).version;

  await refuseIfLocked(options, undefined);
  const lock: Lock = {
    time: formatResticTime(options.now()),
    exclusive: true,
    hostname: options.holder.hostname,
    username: options.holder.username,
    pid: options.holder.pid,
  };
  const stored = encodeLock(options.key, lock, version);
  const ourLock = `${prefix}locks/${resticFileId(stored)}`;
  await options.s3.send(new PutObjectCommand({ Bucket: options.bucket, Key: ourLock, Body: stored }));
  try {
    await refuseIfLocked(options, ourLock);
    const forgotten: string[] = [];
    for (const id of options.snapshotIds) {
      await options.s3.send(new DeleteObjectCommand({ Bucket: options.bucket, Key: `${prefix}snapshots/${id}` }));
      forgotten.push(id);
    }
    return forgotten;
  } finally {
    await removeLock(options, ourLock);
  }
}

async function refuseIfLocked(options: ForgetOptions, ours: string | undefined): Promise<void> {
  const prefix = `${resticRepositoryPrefix(options.repository)}locks/`;
  const listed = await options.s3.send(new ListObjectsV2Command({ Bucket: options.bucket, Prefix: prefix }));
  for (const object of listed.Contents ?? []) {
    if (!object.Key || object.Key === ours) continue;
    let lock: Lock;
    try {
      lock = decodeLock(options.key, await readBytes(options.s3, options.bucket, object.Key));
    } catch (error) {
      if (isMissingObject(error)) continue; // released while we looked
      // A lock we cannot read may still be live: restic would not proceed either.
      throw new RepositoryLockedError(
        `repository ${options.repository} has a lock we cannot read (${object.Key}): ${describeError(error)}`,
      );
    }
    if (isStaleLock(lock, options.now())) continue;
    throw new RepositoryLockedError(
      `repository ${options.repository} is locked${lock.exclusive ? " exclusively" : ""} by ${lock.username}@${lock.hostname} (pid ${lock.pid}) since ${parseResticTime(lock.time).date.toISOString()}; retention waits for the next run`,
    );
  }
}

/** A lock left behind would block every restic on every host for 30 minutes: try hard to remove it. */
async function removeLock(options: ForgetOptions, key: string): Promise<void> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await options.s3.send(new DeleteObjectCommand({ Bucket: options.bucket, Key: key }));
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
    }
  }
  throw new RestorableError(
    "restic-lock-not-removed",
    `could not remove our lock ${key}; it goes stale in 30 minutes`,
    {
      cause: lastError,
    },
  );
}

async function readBytes(s3: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await object.Body?.transformToByteArray()) ?? new Uint8Array();
}
