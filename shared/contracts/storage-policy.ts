import type { LifecycleRule, PublicAccessBlockConfiguration } from "@aws-sdk/client-s3";
import { PLANS_PREFIX, SETS_PREFIX } from "./layout";

/**
 * How the backup bucket must be set up, as plain data in S3's own API shape: the CDK stack builds
 * the bucket from it, the local stack applies it, and the bucket audit compares the live bucket with
 * it. Days are chosen for backups that only restore drills read.
 */
export const NONCURRENT_VERSION_GRACE_DAYS = 30;

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
    // What retention or `restic prune` deleted stays recoverable for a grace period, then goes.
    ID: "expire-noncurrent-versions",
    Status: "Enabled",
    Filter: { Prefix: "" },
    NoncurrentVersionExpiration: { NoncurrentDays: NONCURRENT_VERSION_GRACE_DAYS },
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
