import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, readdir, readFile, stat } from "node:fs/promises";
import { hostname as machineHostname } from "node:os";
import * as path from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { create as createTar } from "tar";
import { isMissingObject } from "../../shared/aws/s3-errors";
import {
  ComponentNameSchema,
  commitRequestKey,
  componentKey,
  makeSetId,
  manifestKey,
  SourceNameSchema,
} from "../../shared/contracts/layout";
import {
  checksumPathToName,
  HOST_CHECKSUMS_FILE,
  HOST_MANIFEST_FILE,
  MASTER_KEY_ID_FILE,
  parseChecksums,
  parseHostManifest,
} from "../../shared/dumpset/host-files";
import {
  type ComponentKind,
  MANIFEST_FORMAT,
  type ManifestComponent,
  type SetManifest,
  SetManifestSchema,
} from "../../shared/dumpset/manifest";
import { describeChecksum, sameChecksum } from "../../shared/dumpset/s3-checksum";
import { RestorableError } from "../../shared/errors";
import { parseJsonWith, parseWith } from "../../shared/validation";
import { PROGRAM_VERSION } from "../version";
import { hashLikeUpload, ObjectExistsError, type UploadedObject, uploadHashing } from "./hashing-upload";
import { noProgress, type TransferProgress } from "./progress";

export class BackupDirectoryError extends RestorableError {}

/** A push stopped on purpose (Ctrl-C): nothing was committed, and the same command finishes the set. */
export class PushInterruptedError extends RestorableError {
  constructor(
    message: string,
    readonly uploaded: string[],
    readonly remaining: string[],
  ) {
    super("push-interrupted", message);
  }
}
export class ChecksumMismatchError extends RestorableError {}

export interface PushDirectoryOptions {
  s3: S3Client;
  bucket: string;
  directory: string;
  source: string;
  tags?: string[];
  progress?: TransferProgress;
  /** Where the host name comes from when manifest.txt does not say. */
  hostname?: string;
  /** Refuse a directory without SHA256SUMS instead of pushing it with a warning. */
  requireChecksums?: boolean;
  /** Where warnings go (the CLI prints them on stderr). */
  warn?: (message: string) => void;
  /** Aborting (Ctrl-C) aborts the open multipart upload and commits nothing. */
  abortSignal?: AbortSignal;
}

export interface PushResult {
  source: string;
  setId: string;
  outcome: "pushed" | "already-pushed";
  manifestKey: string;
  createdAt: string;
  components: ManifestComponent[];
  bytes: number;
  seconds: number;
}

interface PlannedComponent {
  name: string;
  kind: ComponentKind;
  localPath: string;
  /** Exact for files; for directories the sum of their files, an estimate of the archive's size. */
  estimatedBytes: number;
}

/**
 * Pushes one backup directory as a dump set: files become objects, directories become one streamed
 * gzip tar each, our manifest goes last. The set id is derived from the directory, so pushing the
 * same directory again (after a crash, or by mistake) finishes or finds the same set.
 */
export async function pushDirectory(options: PushDirectoryOptions): Promise<PushResult> {
  const started = Date.now();
  const progress = options.progress ?? noProgress;
  const source = parseWith(SourceNameSchema, options.source, "source name");
  const tags = options.tags ?? [];
  const directory = path.resolve(options.directory);
  const planned = await planComponents(directory);

  const hostChecksums = await readOptional(path.join(directory, HOST_CHECKSUMS_FILE));
  const hostManifestText = await readOptional(path.join(directory, HOST_MANIFEST_FILE));
  const masterKeyId = (await readOptional(path.join(directory, MASTER_KEY_ID_FILE)))?.trim() || null;
  const hostManifest = hostManifestText === undefined ? null : parseHostManifest(hostManifestText);

  if (hostChecksums === undefined) {
    const missing = `${directory} has no ${HOST_CHECKSUMS_FILE}`;
    if (options.requireChecksums) {
      throw new ChecksumMismatchError("checksums-missing", `refusing to push: ${missing} (--require-checksums)`);
    }
    options.warn?.(
      `${missing}: nothing on the host vouches for its files before they are hashed here; write one with ` +
        `\`sha256sum main.dump … > ${HOST_CHECKSUMS_FILE}\`, or pass --require-checksums to refuse such directories`,
    );
  }
  // Refuse a directory whose own checksums do not hold before a byte leaves the host.
  const expected = hostChecksums === undefined ? new Map<string, string>() : expectedChecksums(hostChecksums, planned);
  await verifyChecksums(expected, planned);

  const createdAt = await creationTime(directory, hostManifest);
  const setId = makeSetId(
    createdAt,
    await directoryFingerprint(source, directory, planned, hostManifestText, hostChecksums),
  );
  const key = manifestKey(source, setId);

  const existing =
    (await readExistingManifest(options.s3, options.bucket, key)) ??
    (await readExistingManifest(options.s3, options.bucket, commitRequestKey(source, setId)));
  if (existing) return alreadyPushed(existing, key, started);

  progress.start(planned.reduce((sum, component) => sum + component.estimatedBytes, 0));
  const components: ManifestComponent[] = [];
  try {
    for (const component of planned) {
      progress.component(component.name);
      if (options.abortSignal?.aborted) throw interrupted(planned, components, setId);
      let uploaded: UploadedObject;
      try {
        uploaded = await uploadComponent(
          options.s3,
          options.bucket,
          componentKey(source, setId, component.name),
          component,
          progress,
          options.abortSignal,
        );
      } catch (error) {
        if (options.abortSignal?.aborted) throw interrupted(planned, components, setId);
        throw error;
      }
      const wanted = expected.get(component.name);
      if (wanted && wanted !== uploaded.sha256) {
        throw new ChecksumMismatchError(
          "file-changed-during-push",
          `${component.name} changed while it was being pushed (SHA-256 ${uploaded.sha256}, ${HOST_CHECKSUMS_FILE} says ${wanted}); nothing was registered, push again`,
        );
      }
      components.push({
        name: component.name,
        key: uploaded.key,
        kind: component.kind,
        size: uploaded.size,
        sha256: uploaded.sha256,
        checksum: uploaded.checksum,
      });
    }
  } finally {
    progress.stop();
  }

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
      tags,
      components,
      host_manifest: hostManifest,
    },
    started,
  );
}

/** Builds our manifest for an uploaded set, asks for its commit, and reports the push. */
export async function commitPushedSet(
  s3: S3Client,
  bucket: string,
  fields: Omit<SetManifest, "format" | "uploader">,
  started: number,
): Promise<PushResult> {
  const manifest = parseWith(
    SetManifestSchema,
    { format: MANIFEST_FORMAT, ...fields, uploader: { program: "restorable", version: PROGRAM_VERSION } },
    "manifest",
  );
  const outcome = await requestCommit(s3, bucket, manifest);
  return {
    source: manifest.source,
    setId: manifest.set_id,
    outcome,
    manifestKey: manifestKey(manifest.source, manifest.set_id),
    createdAt: manifest.created_at,
    components: manifest.components,
    bytes: manifest.components.reduce((sum, component) => sum + component.size, 0),
    seconds: (Date.now() - started) / 1000,
  };
}

/**
 * Asks the service to commit the set: the manifest goes to incoming/, and the indexer writes it into
 * the set's prefix only if the set has none (hosts cannot write committed manifests at all). Its
 * arrival there commits the set.
 */
export async function requestCommit(s3: S3Client, bucket: string, manifest: SetManifest): Promise<"pushed"> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: commitRequestKey(manifest.source, manifest.set_id),
      Body: `${JSON.stringify(manifest, null, 2)}\n`,
      ContentType: "application/json",
    }),
  );
  return "pushed";
}

async function planComponents(directory: string): Promise<PlannedComponent[]> {
  let entries: string[];
  try {
    entries = (await readdir(directory)).sort();
  } catch (error) {
    throw new BackupDirectoryError("unreadable-directory", `cannot read backup directory ${directory}`, {
      cause: error,
    });
  }
  const planned: PlannedComponent[] = [];
  for (const entry of entries) {
    const localPath = path.join(directory, entry);
    const info = await stat(localPath);
    if (info.isFile()) {
      planned.push({
        name: entry,
        kind: (await isPgDump(localPath)) ? "pg-dump" : "file",
        localPath,
        estimatedBytes: info.size,
      });
    } else if (info.isDirectory()) {
      planned.push({
        name: `${entry}.tar.gz`,
        kind: "directory-archive",
        localPath,
        estimatedBytes: await directoryBytes(localPath),
      });
    }
    // Sockets, FIFOs and devices are not backup data.
  }
  const names = new Set<string>();
  for (const component of planned) {
    parseWith(ComponentNameSchema, component.name, `component name "${component.name}"`);
    if (names.has(component.name)) {
      throw new BackupDirectoryError(
        "component-name-clash",
        `${component.name} would be both a file and the archive of a directory; rename one of them`,
      );
    }
    names.add(component.name);
  }
  if (planned.length === 0) throw new BackupDirectoryError("empty-directory", `${directory} holds nothing to back up`);
  return planned;
}

function expectedChecksums(text: string, planned: PlannedComponent[]): Map<string, string> {
  const expected = new Map<string, string>();
  const files = new Set(planned.filter((c) => c.kind !== "directory-archive").map((c) => c.name));
  for (const line of parseChecksums(text)) {
    const name = checksumPathToName(line.path);
    if (!files.has(name)) {
      throw new ChecksumMismatchError(
        "checksummed-file-missing",
        `${HOST_CHECKSUMS_FILE} lists ${line.path}, but the directory has no file ${name}; nothing was pushed`,
      );
    }
    expected.set(name, line.sha256);
  }
  return expected;
}

async function verifyChecksums(expected: Map<string, string>, planned: PlannedComponent[]): Promise<void> {
  const mismatches: string[] = [];
  for (const component of planned) {
    const wanted = expected.get(component.name);
    if (!wanted) continue;
    const actual = await sha256OfFile(component.localPath);
    if (actual !== wanted)
      mismatches.push(`${component.name}: SHA-256 is ${actual}, ${HOST_CHECKSUMS_FILE} says ${wanted}`);
  }
  if (mismatches.length > 0) {
    throw new ChecksumMismatchError(
      "checksum-mismatch",
      `refusing to push: the directory does not match its ${HOST_CHECKSUMS_FILE} (${mismatches.join("; ")}); nothing was pushed or registered`,
    );
  }
}

function interrupted(planned: PlannedComponent[], done: ManifestComponent[], setId: string): PushInterruptedError {
  const uploaded = done.map((component) => component.name);
  const remaining = planned.map((component) => component.name).filter((name) => !uploaded.includes(name));
  return new PushInterruptedError(
    `interrupted: set ${setId} was not committed (${uploaded.length} of ${planned.length} components uploaded; ` +
      `not sent: ${remaining.join(", ")}); the open upload was aborted. Run the same command again to finish the set.`,
    uploaded,
    remaining,
  );
}

async function uploadComponent(
  s3: S3Client,
  bucket: string,
  key: string,
  component: PlannedComponent,
  progress: TransferProgress,
  abortSignal: AbortSignal | undefined,
): Promise<UploadedObject> {
  // An interrupted push already uploaded this one: keep it if it holds these very bytes (it can never be
  // replaced: uploads only create keys), instead of sending it again.
  const existing = await headWithChecksum(s3, bucket, key);
  if (existing) return resumeFrom(existing, key, component, progress);
  try {
    return await uploadHashing({
      s3,
      bucket,
      key,
      body: componentBody(component),
      contentType: component.kind === "directory-archive" ? "application/gzip" : "application/octet-stream",
      ...(component.kind === "directory-archive" ? {} : { expectedBytes: component.estimatedBytes }),
      onBytes: (count) => progress.advance(count),
      ...(abortSignal ? { abortSignal } : {}),
    });
  } catch (error) {
    // Another push of the same directory got there first.
    const raced = error instanceof ObjectExistsError ? await headWithChecksum(s3, bucket, key) : undefined;
    if (raced) return resumeFrom(raced, key, component, noProgress);
    throw error;
  }
}

function componentBody(component: PlannedComponent): Readable {
  return component.kind === "directory-archive"
    ? createTar({ gzip: true, portable: true, cwd: path.dirname(component.localPath) }, [
        path.basename(component.localPath),
      ]).pipe(new PassThrough())
    : createReadStream(component.localPath, { highWaterMark: 1024 * 1024 });
}

export interface ExistingObject {
  size: number;
  checksum: string | undefined;
  versionId: string | undefined;
}

export async function headWithChecksum(s3: S3Client, bucket: string, key: string): Promise<ExistingObject | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: "ENABLED" }));
    return { size: head.ContentLength ?? 0, checksum: head.ChecksumSHA256, versionId: head.VersionId };
  } catch (error) {
    if (isMissingObject(error)) return undefined;
    throw error;
  }
}

async function resumeFrom(
  existing: ExistingObject,
  key: string,
  component: PlannedComponent,
  progress: TransferProgress,
): Promise<UploadedObject> {
  const local = await hashLikeUpload(
    componentBody(component),
    component.kind === "directory-archive" ? undefined : component.estimatedBytes,
    (count) => progress.advance(count),
  );
  if (local.size !== existing.size || !sameChecksum(local.checksum, existing.checksum)) {
    throw new BackupDirectoryError(
      "component-differs",
      `${key} was uploaded by an earlier push with other bytes (${existing.size} bytes, ${describeChecksum(existing.checksum)}) ` +
        `than ${component.localPath} has now; uploaded objects are never replaced: make the changed backup a new directory`,
    );
  }
  return { key, ...local, versionId: existing.versionId };
}

/**
 * When the set was made: the host's manifest.txt timestamp, else the seed's directory name
 * (`date +%Y%m%d_%H%M%S`, the host's local time), else the directory's modification time.
 */
async function creationTime(directory: string, hostManifest: Record<string, string> | null): Promise<Date> {
  const stamped = hostManifest?.timestamp ? new Date(hostManifest.timestamp) : undefined;
  if (stamped && !Number.isNaN(stamped.getTime())) return stamped;
  const named = /^(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})$/.exec(path.basename(directory));
  if (named) {
    const [, y, mo, d, h, mi, s] = named.map(Number) as number[];
    return new Date(y as number, (mo as number) - 1, d, h, mi, s);
  }
  return (await stat(directory)).mtime;
}

/** Same directory, same source → same fingerprint, run after run; different directories differ. */
async function directoryFingerprint(
  source: string,
  directory: string,
  planned: PlannedComponent[],
  hostManifestText: string | undefined,
  hostChecksums: string | undefined,
): Promise<string> {
  const hash = createHash("sha256");
  hash.update(`${source}\0${path.basename(directory)}\0${hostManifestText ?? ""}\0${hostChecksums ?? ""}\0`);
  for (const component of planned) {
    const info = await stat(component.localPath);
    hash.update(`${component.name}\0${component.kind}\0${info.isFile() ? info.size : 0}\0${info.mtimeMs}\0`);
  }
  return hash.digest("hex");
}

export async function readExistingManifest(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<SetManifest | undefined> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  } catch (error) {
    if (isMissingObject(error)) return undefined;
    throw error;
  }
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const text = (await object.Body?.transformToString("utf-8")) ?? "";
  return parseJsonWith(SetManifestSchema, text, "existing manifest");
}

export function alreadyPushed(manifest: SetManifest, key: string, started: number): PushResult {
  return {
    source: manifest.source,
    setId: manifest.set_id,
    outcome: "already-pushed",
    manifestKey: key,
    createdAt: manifest.created_at,
    components: manifest.components,
    bytes: manifest.components.reduce((sum, component) => sum + component.size, 0),
    seconds: (Date.now() - started) / 1000,
  };
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf-8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new BackupDirectoryError("unreadable-file", `cannot read ${file}`, { cause: error });
  }
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** `pg_dump -Fc` archives start with the magic bytes "PGDMP". */
async function isPgDump(file: string): Promise<boolean> {
  const handle = await open(file, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(5), 0, 5, 0);
    return bytesRead === 5 && buffer.toString("latin1") === "PGDMP";
  } finally {
    await handle.close();
  }
}

async function directoryBytes(directory: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(directory, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}
