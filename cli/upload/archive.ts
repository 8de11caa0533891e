import { createHash } from "node:crypto";
import { createReadStream, type Stats } from "node:fs";
import { stat } from "node:fs/promises";
import { hostname as machineHostname } from "node:os";
import * as path from "node:path";
import { type Readable, Transform, type TransformCallback } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import {
  ComponentNameSchema,
  commitRequestKey,
  componentKey,
  makeSetId,
  manifestKey,
  SourceNameSchema,
} from "../../shared/contracts/layout";
import { parseChecksums, parseHostManifest } from "../../shared/dumpset/host-files";
import type { ManifestComponent } from "../../shared/dumpset/manifest";
import { describeChecksum, sameChecksum } from "../../shared/dumpset/s3-checksum";
import { parseWith } from "../../shared/validation";
import { type ArchiveFindings, ArchiveInspector, matchChecksumPath, UnreadableArchiveError } from "./archive-inspector";
import {
  alreadyPushed,
  BackupDirectoryError,
  ChecksumMismatchError,
  commitPushedSet,
  headWithChecksum,
  type PushDirectoryOptions,
  PushInterruptedError,
  type PushResult,
  readExistingManifest,
} from "./dump-set";
import { hashLikeUpload, ObjectExistsError, type UploadedObject, uploadHashing } from "./hashing-upload";
import { noProgress, type TransferProgress } from "./progress";

export { UnreadableArchiveError } from "./archive-inspector";

/** The names `push` takes as one archive rather than a directory. */
export const ARCHIVE_NAME = /\.(tar\.gz|tgz|tar)$/;

export type PushArchiveOptions = Omit<PushDirectoryOptions, "directory"> & {
  /** The helper's archive, e.g. /backups/codebolt/20261203.tar.gz. */
  file: string;
};

const MiB = 1024 * 1024;

/**
 * Pushes a whole backup written as one archive (`codebolt admin backup --output …/20261203.tar.gz`) as a
 * one-component set: the archive is uploaded as it is, and read in the same pass (gunzipped and parsed as it
 * streams to S3) for what the catalog needs: its manifest (time, host, server version), its master key id, a
 * table of contents, and every file its SHA256SUMS names, hashed and compared. A truncated or damaged archive,
 * or one that does not match its own checksums, is refused at its end, before the upload completes: the upload
 * is aborted, nothing is stored or registered.
 *
 * The set id is in every key, so it must be known before the first byte goes up: the archive is first read up
 * to its manifest (often its first entries; at worst the whole file, without uploading anything) for the time
 * the set id starts with.
 */
export async function pushArchive(options: PushArchiveOptions): Promise<PushResult> {
  const started = Date.now();
  const progress = options.progress ?? noProgress;
  const source = parseWith(SourceNameSchema, options.source, "source name");
  const file = path.resolve(options.file);
  const name = parseWith(ComponentNameSchema, path.basename(file), `component name "${path.basename(file)}"`);
  const info = await stat(file);
  const manifestText = await peekManifest(file, name);
  const hostManifest = manifestText === undefined ? null : parseHostManifest(manifestText);
  const createdAt = archiveCreationTime(name, hostManifest, info);
  const setId = makeSetId(createdAt, archiveFingerprint(source, name, info, manifestText));
  const key = manifestKey(source, setId);
  const existing =
    (await readExistingManifest(options.s3, options.bucket, key)) ??
    (await readExistingManifest(options.s3, options.bucket, commitRequestKey(source, setId)));
  if (existing) return alreadyPushed(existing, key, started);

  progress.start(info.size);
  progress.component(name);
  let pushed: { uploaded: UploadedObject; findings: ArchiveFindings };
  try {
    pushed = await uploadArchive(
      { ...options, file, name, size: info.size, progress },
      componentKey(source, setId, name),
    );
  } catch (error) {
    if (options.abortSignal?.aborted) throw interrupted(name, setId);
    throw error;
  } finally {
    progress.stop();
  }
  const { uploaded, findings } = pushed;
  const masterKeyId = findings.masterKeyId?.text.trim() || null;
  if (!masterKeyId) {
    options.warn?.(
      `${name} holds no master-key-id: the set's master key is recorded as unknown (the helper leaves the master ` +
        "key out, as the backup page says: keep the key, and which one it is, with your secrets)",
    );
  }
  const component: ManifestComponent = {
    name,
    key: uploaded.key,
    kind: "archive",
    size: uploaded.size,
    sha256: uploaded.sha256,
    checksum: uploaded.checksum,
    contents: findings.contents,
  };
  return commitPushedSet(
    options.s3,
    options.bucket,
    {
      source,
      set_id: setId,
      created_at: createdAt.toISOString(),
      hostname: hostManifest?.hostname || options.hostname || machineHostname(),
      server_version: hostManifest?.server_version || null,
      master_key_id: masterKeyId,
      tags: options.tags ?? [],
      components: [component],
      host_manifest: hostManifest,
    },
    started,
  );
}

interface ArchiveUpload {
  s3: S3Client;
  bucket: string;
  file: string;
  name: string;
  size: number;
  progress: TransferProgress;
  requireChecksums?: boolean;
  warn?: (message: string) => void;
  abortSignal?: AbortSignal;
}

/** Uploads the archive while reading it; an archive an interrupted push already uploaded is read, not sent again. */
async function uploadArchive(
  upload: ArchiveUpload,
  key: string,
): Promise<{ uploaded: UploadedObject; findings: ArchiveFindings }> {
  let findings: ArchiveFindings | undefined;
  let refusal: Error | undefined;
  const existing = await headWithChecksum(upload.s3, upload.bucket, key);
  const body = () =>
    inspectedBody(upload.file, upload.name, async (found) => {
      await checkInnerChecksums(found, upload, existing !== undefined).catch((error: Error) => {
        refusal = error;
        throw error;
      });
      findings = found;
    }).on("error", (error) => {
      refusal ??= error;
    });
  const onBytes = (count: number) => upload.progress.advance(count);
  let uploaded: UploadedObject;
  try {
    if (existing) {
      const local = await hashLikeUpload(body(), upload.size, onBytes);
      if (local.size !== existing.size || !sameChecksum(local.checksum, existing.checksum)) {
        throw new BackupDirectoryError(
          "component-differs",
          `${key} was uploaded by an earlier push with other bytes (${existing.size} bytes, ${describeChecksum(existing.checksum)}) ` +
            `than ${upload.file} has now; uploaded objects are never replaced: push the changed backup under another name`,
        );
      }
      uploaded = { key, ...local, versionId: existing.versionId };
    } else {
      uploaded = await uploadHashing({
        s3: upload.s3,
        bucket: upload.bucket,
        key,
        body: body(),
        contentType: "application/octet-stream",
        expectedBytes: upload.size,
        onBytes,
        ...(upload.abortSignal ? { abortSignal: upload.abortSignal } : {}),
      });
    }
  } catch (error) {
    if (refusal instanceof ChecksumMismatchError) throw refusal;
    if (refusal instanceof UnreadableArchiveError) {
      throw new UnreadableArchiveError(
        "unreadable-archive",
        `refusing to push: ${refusal.message}; ${refused(existing)}`,
        {
          cause: refusal,
        },
      );
    }
    if (error instanceof ObjectExistsError) return uploadArchive(upload, key);
    throw error;
  }
  if (!findings) throw new UnreadableArchiveError("unreadable-archive", `${upload.name} was not read to its end`);
  return { uploaded, findings };
}

/** The file's bytes, passed on once the inspector has taken them; at the end, `atEnd` judges what it found. */
function inspectedBody(file: string, name: string, atEnd: (findings: ArchiveFindings) => Promise<void>): Readable {
  const inspector = new ArchiveInspector(name);
  const source = createReadStream(file, { highWaterMark: MiB });
  const through = new Transform({
    highWaterMark: 2 * MiB,
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      inspector.write(chunk).then(
        () => callback(null, chunk),
        (error: Error) => callback(error),
      );
    },
    flush(callback: TransformCallback) {
      inspector
        .end()
        .then(atEnd)
        .then(
          () => callback(),
          (error: Error) => callback(error),
        );
    },
  });
  source.on("error", (error) => through.destroy(error));
  return source.pipe(through);
}

/**
 * Every file the archive's SHA256SUMS names must be in it with that SHA-256. An archive without one is pushed
 * with a warning (refused with --require-checksums), as a directory is.
 */
async function checkInnerChecksums(
  findings: ArchiveFindings,
  upload: ArchiveUpload,
  uploadedBefore: boolean,
): Promise<void> {
  const refusal = refused(uploadedBefore);
  if (!findings.checksums) {
    const missing = `${upload.name} holds no SHA256SUMS`;
    if (upload.requireChecksums) {
      throw new ChecksumMismatchError(
        "checksums-missing",
        `refusing to push: ${missing} (--require-checksums); ${refusal}`,
      );
    }
    upload.warn?.(`${missing}: nothing inside it vouches for its files; they were uploaded as read`);
    return;
  }
  const where = `${upload.name}'s ${findings.checksums.path}`;
  const lines = parseChecksums(findings.checksums.text);
  let digests = findings.digests;
  if (findings.overflowed && lines.some((line) => !matchChecksumPath(line.path, digests.keys()))) {
    digests = await secondLook(
      upload,
      lines.map((line) => line.path.split("/").pop() as string),
    );
  }
  const problems: string[] = [];
  for (const line of lines) {
    const found = matchChecksumPath(line.path, digests.keys());
    const actual = found === undefined ? undefined : digests.get(found);
    if (found === undefined || actual === undefined)
      problems.push(`it lists ${line.path}, which the archive does not hold`);
    else if (actual !== line.sha256) problems.push(`${found}: SHA-256 is ${actual}, ${where} says ${line.sha256}`);
  }
  if (problems.length > 0) {
    throw new ChecksumMismatchError(
      "checksum-mismatch",
      `refusing to push: ${upload.name} does not match its own checksums (${problems.join("; ")}); ${refusal}`,
    );
  }
}

/** What a refusal leaves: nothing, or the object an interrupted push uploaded earlier, still uncommitted. */
function refused(uploadedBefore: unknown): string {
  return uploadedBefore
    ? "nothing was registered (the copy an earlier push uploaded stays in the bucket, uncommitted)"
    : "the upload was aborted: nothing was stored or registered";
}

/** More files than are remembered came before the checksum file: read the archive again for the ones it names. */
async function secondLook(upload: ArchiveUpload, names: string[]): Promise<Map<string, string>> {
  const inspector = new ArchiveInspector(upload.name, { hashOnly: new Set(names) });
  for await (const chunk of createReadStream(upload.file, { highWaterMark: MiB }))
    await inspector.write(chunk as Buffer);
  return (await inspector.end()).digests;
}

/**
 * The archive's manifest, read before anything is uploaded: the set id starts with its time. Reading stops as
 * soon as the manifest has been read; an archive that turns out unreadable before that is refused right here.
 */
async function peekManifest(file: string, name: string): Promise<string | undefined> {
  let found = false;
  const inspector = new ArchiveInspector(name, { onManifest: () => (found = true) });
  const source = createReadStream(file, { highWaterMark: MiB });
  try {
    for await (const chunk of source) {
      await inspector.write(chunk as Buffer);
      if (found) break;
    }
    if (!found) await inspector.end();
  } catch (error) {
    if (error instanceof UnreadableArchiveError) {
      throw new UnreadableArchiveError(
        "unreadable-archive",
        `refusing to push: ${error.message}; nothing was uploaded or registered`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    source.destroy();
    if (found) inspector.abort();
  }
  return inspector.findings.manifest?.text;
}

/**
 * When the set was made: the manifest's timestamp, else the helper's file name (`date +%Y%m%d`, the host's
 * local midnight; `…_%H%M%S` too), else the file's modification time.
 */
export function archiveCreationTime(
  name: string,
  hostManifest: Record<string, string> | null,
  info: Pick<Stats, "mtime">,
): Date {
  const stamped = hostManifest?.timestamp ? new Date(hostManifest.timestamp) : undefined;
  if (stamped && !Number.isNaN(stamped.getTime())) return stamped;
  const named = /^(\d{4})(\d{2})(\d{2})(?:_(\d{2})(\d{2})(\d{2}))?\.(?:tar\.gz|tgz|tar)$/.exec(name);
  if (named) {
    const [y, mo, d, h, mi, s] = named.slice(1).map((part) => Number(part ?? 0)) as number[];
    return new Date(y as number, (mo as number) - 1, d, h, mi, s);
  }
  return info.mtime;
}

/** Same file, same source → same fingerprint, push after push; another file (or the same one rewritten) differs. */
function archiveFingerprint(source: string, name: string, info: Stats, manifestText: string | undefined): string {
  return createHash("sha256")
    .update(`${source}\0${name}\0${info.size}\0${info.mtimeMs}\0${manifestText ?? ""}`)
    .digest("hex");
}

function interrupted(name: string, setId: string): PushInterruptedError {
  return new PushInterruptedError(
    `interrupted: set ${setId} was not committed (${name} was not sent); the open upload was aborted. ` +
      "Run the same command again to push it.",
    [],
    [name],
  );
}
