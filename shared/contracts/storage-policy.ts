import type { LifecycleRule, PublicAccessBlockConfiguration } from "@aws-sdk/client-s3";
import { INCOMING_PREFIX, PLANS_PREFIX, RESTIC_PREFIX, SETS_PREFIX } from "./layout";

/**
 * How the backup bucket must be set up, as plain data in S3's own API shape: the CDK stack builds
 * the bucket from it, the local stack applies it, and the bucket audit compares the live bucket with
 * it. Days are chosen for backups that only restore drills read.
 */
export const NONCURRENT_VERSION_GRACE_DAYS = 30;

/**
 * The tag that lets a noncurrent version under sets/ expire. A committed set pins the versions it was
 * committed with, and a pinned version must outlive anything written over it later, so under sets/ only
 * versions released on purpose expire: those of a set retention removed, and those that replaced a
 * committed component (damage, once put back). Hosts may not tag at all.
 */
export const RELEASE_TAG = { Key: "restorable-release", Value: "expire" } as const;

export const LIFECYCLE_RULES: readonly LifecycleRule[] = [
  {
    ID: "abort-incomplete-uploads",
    Status: "Enabled",
    Filter: { Prefix: "" },
    AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
  },
  {
    // Only drills read dump sets once they are a month old; Glacier Instant Retrieval still serves them in ms.
    ID: "dump-sets-cool-down",
    Status: "Enabled",
    Filter: { Prefix: SETS_PREFIX },
    Transitions: [
      { Days: 30, StorageClass: "STANDARD_IA" },
      { Days: 90, StorageClass: "GLACIER_IR" },
    ],
  },
  {
    // What retention removed, or what overwrote a committed component, stays for a grace period, then goes;
    // versions a kept set pins carry no release tag and never expire.
    ID: "expire-released-set-versions",
    Status: "Enabled",
    Filter: { And: { Prefix: SETS_PREFIX, Tags: [{ ...RELEASE_TAG }] } },
    NoncurrentVersionExpiration: { NoncurrentDays: NONCURRENT_VERSION_GRACE_DAYS },
  },
  ...[RESTIC_PREFIX, INCOMING_PREFIX, PLANS_PREFIX].map(
    (prefix): LifecycleRule => ({
      // What retention, `restic prune` or a commit deleted stays recoverable for a grace period, then goes.
      ID: `expire-noncurrent-${prefix.replace(/\/$/, "")}`,
      Status: "Enabled",
      Filter: { Prefix: prefix },
      NoncurrentVersionExpiration: { NoncurrentDays: NONCURRENT_VERSION_GRACE_DAYS },
    }),
  ),
  {
    ID: "remove-expired-delete-markers",
    Status: "Enabled",
    Filter: { Prefix: "" },
    Expiration: { ExpiredObjectDeleteMarker: true },
  },
  {
    ID: "expire-old-retention-plans",
    Status: "Enabled",
    Filter: { Prefix: PLANS_PREFIX },
    Expiration: { Days: 400 },
  },
];
// No rule transitions restic/: restic reads its packs and indexes on every backup, check and prune.

export const PUBLIC_ACCESS_BLOCK: Required<PublicAccessBlockConfiguration> = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};

/** Default encryption: SSE-S3, or SSE-KMS with the deployment's key (see infra/constructs/storage.ts). */
export type IntendedEncryption = { algorithm: "AES256" } | { algorithm: "aws:kms"; keyArn: string };

export function parseIntendedEncryption(text: string): IntendedEncryption {
  if (text === "AES256") return { algorithm: "AES256" };
  if (text.startsWith("aws:kms:")) return { algorithm: "aws:kms", keyArn: text.slice("aws:kms:".length) };
  throw new Error(`unknown bucket encryption setting ${text}: expected AES256 or aws:kms:<key arn>`);
}

export function formatIntendedEncryption(encryption: IntendedEncryption): string {
  return encryption.algorithm === "AES256" ? "AES256" : `aws:kms:${encryption.keyArn}`;
}
