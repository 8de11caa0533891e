import { createHash } from "node:crypto";
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { isMissingObject } from "../aws/s3-errors";
import { mapConcurrently } from "../concurrency";
import { resticRepositoryPrefix } from "../contracts/layout";
import type { Log } from "../log";
import type { ResticRepository, VerificationRun, VerificationState } from "./repository";

export interface VerifierDependencies {
  s3: S3Client;
  bucket: string;
  repositories: {
    get(name: string): Promise<ResticRepository | undefined>;
    setVerification(name: string, previousRuns: number | null, next: VerificationState): Promise<boolean>;
  };
  log: Log;
  now: () => Date;
}

export interface VerificationReport extends VerificationRun {
  repository: string;
  /** Slices checked at least once, of all slices. */
  slicesCovered: number;
  /** When the oldest slice was checked, once every slice has been: the whole repository is verified since. */
  fullyVerifiedSince: string | null;
  openMismatches: string[];
}

/** The verified files: everything restic names by the SHA-256 of its stored bytes and that holds data. */
const VERIFIED_FOLDERS = ["data/", "index/"] as const;

/**
 * Which slice a file falls in: its name is a SHA-256, so its leading digits spread files evenly and
 * a file never changes slice.
 */
export function sliceOf(name: string, slices: number): number {
  return Number.parseInt(name.slice(0, 8), 16) % slices;
}

/**
 * Verifies one slice of a repository without its password: downloads each data/ and index/ file of
 * the slice and checks that it hashes to its name. Successive runs take successive slices, so the
 * whole repository is covered once every `verifySlices` runs.
 */
export async function verifyNextSlice(repositoryName: string, deps: VerifierDependencies): Promise<VerificationReport> {
  const repository = await deps.repositories.get(repositoryName);
  if (!repository) throw new Error(`repository ${repositoryName} is not registered`);
  const slices = repository.verifySlices;
  const previous = repository.verification;
  const state: VerificationState = previous ?? {
    runs: 0,
    nextSlice: 0,
    sliceCheckedAt: {},
    lastRun: null,
    openMismatches: {},
  };
  const slice = state.nextSlice % slices;
  const at = deps.now();

  const keys = await listSlice(deps, repositoryName, slice, slices);
  let bytesChecked = 0;
  const results = await mapConcurrently(keys, 4, async (key) => {
    const actual = await hashObject(deps.s3, deps.bucket, key);
    if (actual === undefined) return { key, ok: true }; // deleted meanwhile (prune): nothing to verify
    bytesChecked += actual.bytes;
    return { key, ok: actual.sha256 === key.slice(key.lastIndexOf("/") + 1) };
  });
  const mismatches = results.filter((result) => !result.ok).map((result) => result.key);

  const openMismatches = Object.fromEntries(
    Object.entries(state.openMismatches).filter(
      ([key]) => sliceOf(key.slice(key.lastIndexOf("/") + 1), slices) !== slice,
    ),
  );
  for (const key of mismatches) openMismatches[key] = state.openMismatches[key] ?? at.toISOString();
  const run: VerificationRun = {
    at: at.toISOString(),
    slice,
    slices,
    objectsChecked: keys.length,
    bytesChecked,
    mismatches,
  };
  const next: VerificationState = {
    runs: state.runs + 1,
    nextSlice: (slice + 1) % slices,
    sliceCheckedAt: { ...state.sliceCheckedAt, [String(slice)]: at.toISOString() },
    lastRun: run,
    openMismatches,
  };
  if (!(await deps.repositories.setVerification(repositoryName, previous?.runs ?? null, next))) {
    throw new Error(`another verification of ${repositoryName} ran at the same time; this run's result was not stored`);
  }

  const open = Object.keys(openMismatches).sort();
  if (open.length > 0) {
    deps.log.warn("restic repository has files that do not hash to their name", {
      repository: repositoryName,
      mismatches: open,
    });
  }
  return { repository: repositoryName, ...run, ...coverage(next, slices), openMismatches: open };
}

function coverage(
  state: VerificationState,
  slices: number,
): Pick<VerificationReport, "slicesCovered" | "fullyVerifiedSince"> {
  const checked = Array.from({ length: slices }, (_, slice) => state.sliceCheckedAt[String(slice)]).filter(
    (at): at is string => at !== undefined,
  );
  return {
    slicesCovered: checked.length,
    fullyVerifiedSince: checked.length === slices ? (checked.sort()[0] ?? null) : null,
  };
}

async function listSlice(
  deps: VerifierDependencies,
  repository: string,
  slice: number,
  slices: number,
): Promise<string[]> {
  const keys: string[] = [];
  for (const folder of VERIFIED_FOLDERS) {
    const prefix = `${resticRepositoryPrefix(repository)}${folder}`;
    let continuationToken: string | undefined;
    do {
      const page = await deps.s3.send(
        new ListObjectsV2Command({ Bucket: deps.bucket, Prefix: prefix, ContinuationToken: continuationToken }),
      );
      for (const object of page.Contents ?? []) {
        const name = object.Key?.slice(object.Key.lastIndexOf("/") + 1) ?? "";
        if (/^[0-9a-f]{64}$/.test(name) && sliceOf(name, slices) === slice) keys.push(object.Key as string);
      }
      continuationToken = page.NextContinuationToken;
    } while (continuationToken);
  }
  return keys;
}

async function hashObject(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<{ sha256: string; bytes: number } | undefined> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const hash = createHash("sha256");
    let bytes = 0;
    for await (const chunk of object.Body as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      bytes += chunk.length;
    }
    return { sha256: hash.digest("hex"), bytes };
  } catch (error) {
    if (isMissingObject(error)) return undefined;
    throw error;
  }
}
