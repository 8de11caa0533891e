import { GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { isMissingObject } from "../aws/s3-errors";
import type { CatalogComponent, DumpSetEntry } from "../catalog/entry";
import { mapConcurrently } from "../concurrency";
import { componentKey, manifestKey, setIdTime } from "../contracts/layout";
import { type ManifestComponent, type SetManifest, SetManifestSchema } from "../dumpset/manifest";
import { SHA256_TAG } from "../dumpset/object-tags";
import { describeChecksum, sameChecksum } from "../dumpset/s3-checksum";
import { describeError, InvalidInputError } from "../errors";
import { parseJsonWith } from "../validation";

/** A manifest is a few kilobytes; anything this large is not one of ours. */
const MAX_MANIFEST_BYTES = 1024 * 1024;

export interface DumpSetLocation {
  bucket: string;
  source: string;
  setId: string;
}

export type DumpSetEvaluation = { found: true; entry: DumpSetEntry; manifestVersion: string | null } | { found: false };

/**
 * Looks at a dump set as S3 holds it now: its manifest, and each component's presence, size and
 * recorded SHA-256 (read from the object's tag, never by downloading the object). Judging from S3's
 * current state rather than from the event makes duplicate and reordered events harmless.
 */
export interface EvaluationOptions {
  /** The master key ids the service holds; undefined when none are registered (nothing is flagged). */
  heldKeyIds: Set<string> | undefined;
  /**
   * The versions a committed set pins, by component: a committed set is judged by exactly those, whatever
   * was written to its keys since (that is damage, healed elsewhere). Absent at the first commit, when the
   * current versions are looked at, and pinned if the set is complete.
   */
  pins?: ReadonlyMap<string, Pick<CatalogComponent, "versionId" | "healedVersionId">>;
}

export async function evaluateDumpSet(
  s3: S3Client,
  location: DumpSetLocation,
  now: Date,
  options: EvaluationOptions,
): Promise<DumpSetEvaluation> {
  const { heldKeyIds } = options;
  const { bucket, source, setId } = location;
  const key = manifestKey(source, setId);
  let text: string;
  let manifestVersion: string | null;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if ((object.ContentLength ?? 0) > MAX_MANIFEST_BYTES) {
      object.Body?.transformToWebStream().cancel();
      return corrupt(location, now, null, [`manifest is ${object.ContentLength} bytes, larger than any manifest`]);
    }
    text = (await object.Body?.transformToString("utf-8")) ?? "";
    manifestVersion = object.VersionId ?? object.ETag ?? null;
  } catch (error) {
    if (isMissingObject(error)) return { found: false };
    throw error;
  }

  let manifest: SetManifest;
  try {
    manifest = parseJsonWith(SetManifestSchema, text, "manifest");
  } catch (error) {
    if (error instanceof InvalidInputError) return corrupt(location, now, manifestVersion, [error.message]);
    throw error;
  }

  const misplaced = [
    ...(manifest.source !== source ? [`manifest names source ${manifest.source} but sits under ${source}`] : []),
    ...(manifest.set_id !== setId ? [`manifest names set ${manifest.set_id} but sits under ${setId}`] : []),
    ...manifest.components
      .filter((component) => component.key !== componentKey(source, setId, component.name))
      .map((component) => `component ${component.name} points outside its set (${component.key})`),
  ];
  if (misplaced.length > 0) return corrupt(location, now, manifestVersion, misplaced, manifest);

  const checks = await mapConcurrently(manifest.components, 8, async (component) => {
    const pinned = options.pins?.get(component.name);
    const observed = await observeObject(s3, bucket, component.key, pinned?.versionId ?? undefined);
    const pin = { versionId: observed?.versionId ?? null, healedVersionId: pinned?.healedVersionId ?? null };
    return { component: { ...component, ...pin }, problem: await judgeComponent(component, observed) };
  });
  const components = checks.map((check) => check.component);
  const problems = checks.flatMap((check) => (check.problem ? [check.problem] : []));
  const status = problems.some((p) => p.severity === "corrupt")
    ? "CORRUPT"
    : problems.length > 0
      ? "INCOMPLETE"
      : "COMPLETE";
  // The data is intact, but without its master key the application's secrets in it are lost.
  const masterKeyHeld = manifest.master_key_id && heldKeyIds ? heldKeyIds.has(manifest.master_key_id) : null;
  const keyWarning =
    masterKeyHeld === false
      ? `master key ${manifest.master_key_id} is not held by the service: the set cannot be restored usefully`
      : null;
  return {
    found: true,
    manifestVersion,
    entry: {
      ...baseEntry(location, now, manifestVersion),
      createdAt: new Date(manifest.created_at).toISOString(),
      status,
      statusReason: summariseProblems([...problems.map((p) => p.problem), ...(keyWarning ? [keyWarning] : [])]),
      hostname: manifest.hostname,
      tags: manifest.tags,
      sizeBytes: manifest.components.reduce((sum, component) => sum + component.size, 0),
      serverVersion: manifest.server_version,
      masterKeyId: manifest.master_key_id,
      masterKeyHeld,
      components,
      problems: problems.map((p) => p.problem),
    },
  };
}

interface ObservedObject {
  size: number;
  versionId: string | null;
  /** S3's own SHA-256 checksum of the version, as HeadObject reports it. */
  checksum: string | undefined;
  /** Legacy: the SHA-256 an uploader before 0.2 wrote as a tag on the version. */
  taggedSha256: () => Promise<string | undefined>;
}

async function observeObject(
  s3: S3Client,
  bucket: string,
  key: string,
  versionId: string | undefined,
): Promise<ObservedObject | undefined> {
  try {
    const head = await s3.send(
      new HeadObjectCommand({
        Bucket: bucket,
        Key: key,
        ChecksumMode: "ENABLED",
        ...(versionId ? { VersionId: versionId } : {}),
      }),
    );
    // The tags of the very version HEAD saw, so a concurrent overwrite cannot mix two versions.
    const seen = head.VersionId ?? versionId;
    const taggedSha256 = async () => {
      const tagging = await s3.send(
        new GetObjectTaggingCommand({ Bucket: bucket, Key: key, ...(seen ? { VersionId: seen } : {}) }),
      );
      return tagging.TagSet?.find((tag) => tag.Key === SHA256_TAG)?.Value;
    };
    return { size: head.ContentLength ?? 0, versionId: seen ?? null, checksum: head.ChecksumSHA256, taggedSha256 };
  } catch (error) {
    if (isMissingObject(error)) return undefined;
    throw new Error(`could not inspect ${key}: ${describeError(error)}`, { cause: error });
  }
}

type ComponentProblem = { severity: "missing" | "corrupt"; problem: string };

/**
 * A component is what the manifest says when S3 holds it with the declared size and S3's own checksum of
 * its bytes equals the one recorded at upload. Manifests from uploaders before 0.2 carry no checksum: their
 * SHA-256 is read from the object's tag, which is the host's word, not S3's.
 */
async function judgeComponent(
  component: ManifestComponent,
  observed: ObservedObject | undefined,
): Promise<ComponentProblem | undefined> {
  if (!observed) return { severity: "missing", problem: `component ${component.name} is missing` };
  if (observed.size !== component.size) {
    return {
      severity: "corrupt",
      problem: `component ${component.name} is ${observed.size} bytes in S3, the manifest says ${component.size}`,
    };
  }
  if (component.checksum) {
    if (sameChecksum(component.checksum, observed.checksum)) return undefined;
    return {
      severity: "corrupt",
      problem: observed.checksum
        ? `component ${component.name}: S3 checksums its bytes as ${describeChecksum(observed.checksum)}, the manifest recorded ${describeChecksum(component.checksum)}`
        : `component ${component.name}: S3 holds no SHA-256 checksum for it (not uploaded by restorable push), the manifest recorded ${describeChecksum(component.checksum)}`,
    };
  }
  const sha256 = await observed.taggedSha256();
  if (!sha256) return { severity: "corrupt", problem: `component ${component.name} has no recorded SHA-256` };
  if (sha256 !== component.sha256) {
    return {
      severity: "corrupt",
      problem: `component ${component.name} has SHA-256 ${sha256}, the manifest says ${component.sha256}`,
    };
  }
  return undefined;
}

function baseEntry(location: DumpSetLocation, now: Date, manifestVersion: string | null): DumpSetEntry {
  return {
    kind: "dumpset",
    id: location.setId,
    source: location.source,
    createdAt: setIdTime(location.setId),
    status: "CORRUPT",
    statusReason: null,
    statusChangedAt: now.toISOString(),
    hostname: null,
    tags: [],
    sizeBytes: null,
    indexedAt: now.toISOString(),
    lastDrill: null,
    manifestKey: manifestKey(location.source, location.setId),
    manifestVersion,
    serverVersion: null,
    masterKeyId: null,
    masterKeyHeld: null,
    components: [],
    problems: [],
  };
}

function corrupt(
  location: DumpSetLocation,
  now: Date,
  manifestVersion: string | null,
  problems: string[],
  manifest?: SetManifest,
): DumpSetEvaluation {
  const entry = baseEntry(location, now, manifestVersion);
  return {
    found: true,
    manifestVersion,
    entry: {
      ...entry,
      ...(manifest
        ? {
            hostname: manifest.hostname,
            tags: manifest.tags,
            components: manifest.components.map((c) => ({ ...c, versionId: null, healedVersionId: null })),
          }
        : {}),
      status: "CORRUPT",
      statusReason: summariseProblems(problems),
      problems,
    },
  };
}

/** A status reason from a set's problems: the first three, and how many more. */
export function summariseProblems(problems: string[]): string | null {
  if (problems.length === 0) return null;
  const shown = problems.slice(0, 3).join("; ");
  return problems.length > 3 ? `${shown}; and ${problems.length - 3} more` : shown;
}
