import { GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { isMissingObject } from "../aws/s3-errors";
import type { DumpSetEntry } from "../catalog/entry";
import { mapConcurrently } from "../concurrency";
import { componentKey, manifestKey, setIdTime } from "../contracts/layout";
import { type SetManifest, SetManifestSchema } from "../dumpset/manifest";
import { SHA256_TAG } from "../dumpset/object-tags";
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
export async function evaluateDumpSet(
  s3: S3Client,
  location: DumpSetLocation,
  now: Date,
  /** The master key ids the service holds; undefined when none are registered (nothing is flagged). */
  heldKeyIds: Set<string> | undefined,
): Promise<DumpSetEvaluation> {
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
    const observed = await observeObject(s3, bucket, component.key);
    if (!observed) return { severity: "missing" as const, problem: `component ${component.name} is missing` };
    if (observed.size !== component.size) {
      return {
        severity: "corrupt" as const,
        problem: `component ${component.name} is ${observed.size} bytes in S3, the manifest says ${component.size}`,
      };
    }
    if (!observed.sha256) {
      return { severity: "corrupt" as const, problem: `component ${component.name} has no recorded SHA-256` };
    }
    if (observed.sha256 !== component.sha256) {
      return {
        severity: "corrupt" as const,
        problem: `component ${component.name} has SHA-256 ${observed.sha256}, the manifest says ${component.sha256}`,
      };
    }
    return undefined;
  });
  const problems = checks.flatMap((check) => (check ? [check] : []));
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
      components: manifest.components,
      problems: problems.map((p) => p.problem),
    },
  };
}

async function observeObject(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<{ size: number; sha256: string | undefined } | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    // Read the tags of the very version HEAD saw, so a concurrent overwrite cannot mix two versions.
    const tagging = await s3.send(
      new GetObjectTaggingCommand({
        Bucket: bucket,
        Key: key,
        ...(head.VersionId ? { VersionId: head.VersionId } : {}),
      }),
    );
    return {
      size: head.ContentLength ?? 0,
      sha256: tagging.TagSet?.find((tag) => tag.Key === SHA256_TAG)?.Value,
    };
  } catch (error) {
    if (isMissingObject(error)) return undefined;
    throw new Error(`could not inspect ${key}: ${describeError(error)}`, { cause: error });
  }
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
      ...(manifest ? { hostname: manifest.hostname, tags: manifest.tags, components: manifest.components } : {}),
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
