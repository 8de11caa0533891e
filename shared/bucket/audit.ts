import {
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  type LifecycleRule,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { type IntendedEncryption, LIFECYCLE_RULES, PUBLIC_ACCESS_BLOCK } from "../contracts/storage-policy";
import type { Log } from "../log";

export interface Drift {
  setting: "versioning" | "encryption" | "public-access-block" | "lifecycle" | "tls-only-policy";
  expected: string;
  found: string;
  /** Whether the audit put the intended setting back (the TLS policy belongs to CloudFormation: reported only). */
  repaired: boolean;
}

export interface AuditReport {
  bucket: string;
  at: string;
  drift: Drift[];
}

/**
 * Compares the live bucket with its intended settings (shared/storage-policy.ts) and, when asked,
 * puts them back. Lifecycle rules, versioning, encryption and the public access block can be changed
 * by anyone with the right to, in the console or by script; this notices, and undoes it.
 */
export async function auditBucket(
  s3: S3Client,
  bucket: string,
  intended: { encryption: IntendedEncryption; repair: boolean; tlsOnlyPolicy: boolean },
  log: Log,
  now: Date,
): Promise<AuditReport> {
  const drift: Drift[] = [];
  const note = async (entry: Omit<Drift, "repaired">, repair: () => Promise<unknown>) => {
    let repaired = false;
    if (intended.repair) {
      await repair();
      repaired = true;
    }
    drift.push({ ...entry, repaired });
    log.warn("bucket setting drifted", { bucket, ...entry, repaired });
  };

  const versioning = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
  if (versioning.Status !== "Enabled") {
    await note({ setting: "versioning", expected: "Enabled", found: versioning.Status ?? "never enabled" }, () =>
      s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } })),
    );
  }

  const encryption = await optional(
    () => s3.send(new GetBucketEncryptionCommand({ Bucket: bucket })),
    "ServerSideEncryptionConfigurationNotFoundError",
  );
  const rule = encryption?.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault;
  const foundEncryption = rule ? `${rule.SSEAlgorithm}${rule.KMSMasterKeyID ? `:${rule.KMSMasterKeyID}` : ""}` : "none";
  const expectedEncryption =
    intended.encryption.algorithm === "AES256" ? "AES256" : `aws:kms:${intended.encryption.keyArn}`;
  if (foundEncryption !== expectedEncryption) {
    await note({ setting: "encryption", expected: expectedEncryption, found: foundEncryption }, () =>
      s3.send(
        new PutBucketEncryptionCommand({
          Bucket: bucket,
          ServerSideEncryptionConfiguration: {
            Rules: [
              intended.encryption.algorithm === "AES256"
                ? { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }
                : {
                    ApplyServerSideEncryptionByDefault: {
                      SSEAlgorithm: "aws:kms",
                      KMSMasterKeyID: intended.encryption.keyArn,
                    },
                    BucketKeyEnabled: true,
                  },
            ],
          },
        }),
      ),
    );
  }

  const block = await optional(
    () => s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket })),
    "NoSuchPublicAccessBlockConfiguration",
  );
  const blockFound = block?.PublicAccessBlockConfiguration ?? {};
  const open = (Object.keys(PUBLIC_ACCESS_BLOCK) as (keyof typeof PUBLIC_ACCESS_BLOCK)[]).filter(
    (name) => blockFound[name] !== true,
  );
  if (open.length > 0) {
    await note(
      { setting: "public-access-block", expected: "all four blocked", found: `not blocked: ${open.join(", ")}` },
      () =>
        s3.send(
          new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: PUBLIC_ACCESS_BLOCK }),
        ),
    );
  }

  const lifecycle = await optional(
    () => s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })),
    "NoSuchLifecycleConfiguration",
  );
  const expectedRules = describeRules(LIFECYCLE_RULES);
  const foundRules = describeRules(lifecycle?.Rules ?? []);
  if (expectedRules !== foundRules) {
    await note({ setting: "lifecycle", expected: expectedRules, found: foundRules || "no rules" }, () =>
      s3.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: bucket,
          LifecycleConfiguration: { Rules: [...LIFECYCLE_RULES] },
        }),
      ),
    );
  }

  const policy = intended.tlsOnlyPolicy
    ? await optional(() => s3.send(new GetBucketPolicyCommand({ Bucket: bucket })), "NoSuchBucketPolicy")
    : undefined;
  if (intended.tlsOnlyPolicy && !deniesInsecureTransport(policy?.Policy)) {
    drift.push({
      setting: "tls-only-policy",
      expected: "a Deny for aws:SecureTransport=false",
      found: "missing",
      repaired: false,
    });
    log.warn("bucket policy does not refuse plain HTTP", { bucket });
  }

  return { bucket, at: now.toISOString(), drift };
}

/** A canonical text of the rules, so that equal rules compare equal however S3 spells them back. */
export function describeRules(rules: readonly LifecycleRule[]): string {
  return rules
    .map((rule) =>
      JSON.stringify({
        id: rule.ID,
        status: rule.Status,
        prefix: rule.Filter?.Prefix ?? rule.Prefix ?? rule.Filter?.And?.Prefix ?? "",
        tags: [...(rule.Filter?.And?.Tags ?? []), ...(rule.Filter?.Tag ? [rule.Filter.Tag] : [])]
          .map((tag) => `${tag.Key}=${tag.Value}`)
          .sort(),
        abort: rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation ?? null,
        transitions: (rule.Transitions ?? []).map((t) => `${t.Days}:${t.StorageClass}`).sort(),
        noncurrent: rule.NoncurrentVersionExpiration?.NoncurrentDays ?? null,
        expireDays: rule.Expiration?.Days ?? null,
        deleteMarkers: rule.Expiration?.ExpiredObjectDeleteMarker ?? null,
      }),
    )
    .sort()
    .join("\n");
}

function deniesInsecureTransport(policyText: string | undefined): boolean {
  if (!policyText) return false;
  const policy = JSON.parse(policyText) as {
    Statement?: { Effect?: string; Condition?: { Bool?: Record<string, string> } }[];
  };
  return (policy.Statement ?? []).some(
    (statement) => statement.Effect === "Deny" && statement.Condition?.Bool?.["aws:SecureTransport"] === "false",
  );
}

async function optional<T>(call: () => Promise<T>, missingName: string): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof Error && error.name === missingName) return undefined;
    throw error;
  }
}
