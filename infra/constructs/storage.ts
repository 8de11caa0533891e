import type { LifecycleRule as S3LifecycleRule } from "@aws-sdk/client-s3";
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import { Key } from "aws-cdk-lib/aws-kms";
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  type LifecycleRule,
  ObjectLockRetention,
  ObjectOwnership,
  StorageClass,
} from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { formatIntendedEncryption, LIFECYCLE_RULES } from "../../shared/contracts/storage-policy";

export interface ObjectLockSettings {
  /** GOVERNANCE can be lifted by an administrator with s3:BypassGovernanceRetention; COMPLIANCE by nobody. */
  mode: "GOVERNANCE" | "COMPLIANCE";
  days: number;
}

export interface BackupStorageProps {
  /** Optional Object Lock with a default retention: versions cannot be deleted before it ends. */
  objectLock?: ObjectLockSettings;
}

/**
 * The backup bucket: versioned (so a deletion or overwrite leaves a noncurrent version for a grace
 * period), SSE-KMS with a customer key of its own, private, TLS-only, optionally Object Lock, with
 * server access logs in a bucket of their own.
 */
export class BackupStorage extends Construct {
  readonly bucket: Bucket;
  readonly accessLogs: IBucket;
  readonly key: Key;
  /** The default encryption the bucket audit expects (see shared/storage-policy.ts). */
  readonly intendedEncryption: string;

  constructor(scope: Construct, id: string, props: BackupStorageProps = {}) {
    super(scope, id);
    this.key = new Key(this, "BucketKey", {
      description: "Encrypts the restorable backup bucket",
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.intendedEncryption = formatIntendedEncryption({ algorithm: "aws:kms", keyArn: this.key.keyArn });
    const accessLogs = new Bucket(this, "AccessLogs", {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: "expire-access-logs", expiration: Duration.days(365) }],
    });
    this.accessLogs = accessLogs;
    this.bucket = new Bucket(this, "Backups", {
      versioned: true,
      encryption: BucketEncryption.KMS,
      encryptionKey: this.key,
      // One data key per bucket rather than per object: far fewer KMS calls for the same protection.
      bucketKeyEnabled: true,
      ...(props.objectLock
        ? {
            objectLockEnabled: true,
            objectLockDefaultRetention:
              props.objectLock.mode === "COMPLIANCE"
                ? ObjectLockRetention.compliance(Duration.days(props.objectLock.days))
                : ObjectLockRetention.governance(Duration.days(props.objectLock.days)),
          }
        : {}),
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: "backups/",
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: LIFECYCLE_RULES.map(cdkLifecycleRule),
    });
  }
}

const STORAGE_CLASSES: Record<string, StorageClass> = {
  STANDARD_IA: StorageClass.INFREQUENT_ACCESS,
  GLACIER_IR: StorageClass.GLACIER_INSTANT_RETRIEVAL,
  GLACIER: StorageClass.GLACIER,
  DEEP_ARCHIVE: StorageClass.DEEP_ARCHIVE,
};

/** shared/storage-policy.ts speaks S3's API; CDK wants its own spelling of the same rule. */
function cdkLifecycleRule(rule: S3LifecycleRule): LifecycleRule {
  const days = (value: number | undefined) => (value === undefined ? undefined : Duration.days(value));
  return {
    id: rule.ID,
    enabled: rule.Status === "Enabled",
    ...(rule.Filter?.Prefix || rule.Filter?.And?.Prefix
      ? { prefix: rule.Filter?.Prefix || rule.Filter?.And?.Prefix }
      : {}),
    ...(rule.Filter?.And?.Tags
      ? { tagFilters: Object.fromEntries(rule.Filter.And.Tags.map((tag) => [tag.Key, tag.Value])) }
      : {}),
    abortIncompleteMultipartUploadAfter: days(rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation),
    transitions: rule.Transitions?.map((transition) => {
      const storageClass = STORAGE_CLASSES[transition.StorageClass ?? ""];
      if (!storageClass || transition.Days === undefined) throw new Error(`unsupported transition in rule ${rule.ID}`);
      return { storageClass, transitionAfter: Duration.days(transition.Days) };
    }),
    noncurrentVersionExpiration: days(rule.NoncurrentVersionExpiration?.NoncurrentDays),
    expiration: days(rule.Expiration?.Days),
    expiredObjectDeleteMarker: rule.Expiration?.ExpiredObjectDeleteMarker,
  };
}
