import type { LifecycleRule as S3LifecycleRule } from "@aws-sdk/client-s3";
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  type LifecycleRule,
  ObjectOwnership,
  StorageClass,
} from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { formatIntendedEncryption, LIFECYCLE_RULES } from "../../shared/storage-policy";

/**
 * The backup bucket: versioned (so a deletion or overwrite leaves a noncurrent version for a grace
 * period), encrypted, private, TLS-only, with server access logs in a bucket of their own.
 */
export class BackupStorage extends Construct {
  readonly bucket: Bucket;
  readonly accessLogs: IBucket;
  /** The default encryption the bucket audit expects (see shared/storage-policy.ts). */
  readonly intendedEncryption: string = formatIntendedEncryption({ algorithm: "AES256" });

  constructor(scope: Construct, id: string) {
    super(scope, id);
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
      encryption: BucketEncryption.S3_MANAGED,
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
    ...(rule.Filter?.Prefix ? { prefix: rule.Filter.Prefix } : {}),
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
