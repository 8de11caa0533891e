import { INCOMING_PREFIX, MANIFEST_NAME, RESTIC_PREFIX, SETS_PREFIX } from "./layout";

/** An IAM policy statement as JSON: the CDK stack and the emulator test install the same documents. */
export interface PolicyStatementJson {
  Sid: string;
  Effect: "Allow" | "Deny";
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface HostAccessTarget {
  bucketArn: string;
  /** The bucket's customer-managed key, when the bucket uses SSE-KMS. */
  kmsKeyArn?: string;
}

/** Tags decide which versions may expire (see RELEASE_TAG): no host may set or remove one. */
const TAGGING_ACTIONS = [
  "s3:PutObjectTagging",
  "s3:PutObjectVersionTagging",
  "s3:DeleteObjectTagging",
  "s3:DeleteObjectVersionTagging",
];

const DESTRUCTIVE_ACTIONS = [
  "s3:DeleteObject",
  "s3:DeleteObjectVersion",
  "s3:PutObjectRetention",
  "s3:PutObjectLegalHold",
  "s3:BypassGovernanceRetention",
  "s3:PutBucketPolicy",
  "s3:PutLifecycleConfiguration",
  "s3:PutBucketVersioning",
];

/**
 * What a host pushing dump sets of one source may do, and nothing more: create new components under
 * its own prefix (never replace one: If-None-Match is required) and ask for a commit, read its own sets
 * (to resume and to recognise a pushed directory), never delete or tag, never write a committed manifest,
 * never touch another source. A compromised host can add junk, but cannot destroy or rewrite its history.
 */
export function dumpSetHostStatements(target: HostAccessTarget, source: string): PolicyStatementJson[] {
  const own = `${target.bucketArn}/${SETS_PREFIX}${source}/*`;
  const requests = `${target.bucketArn}/${INCOMING_PREFIX}${source}/*`;
  return [
    {
      // Creating an object (PutObject, CompleteMultipartUpload) under sets/ needs If-None-Match: *, so a key
      // that exists is never replaced. Allow-only on purpose: the emulator ignores conditions and would read
      // a conditional Deny as unconditional; in AWS, a request without the header matches no Allow.
      Sid: "CreateOwnSetObjectsOnly",
      Effect: "Allow",
      Action: ["s3:PutObject"],
      Resource: [own],
      Condition: { Null: { "s3:if-none-match": "false" } },
    },
    {
      // CreateMultipartUpload and UploadPart take no conditional header; CompleteMultipartUpload does.
      Sid: "UploadPartsOfOwnSetObjects",
      Effect: "Allow",
      Action: ["s3:PutObject"],
      Resource: [own],
      Condition: { Bool: { "s3:ObjectCreationOperation": "false" } },
    },
    {
      Sid: "WriteOwnCommitRequests",
      Effect: "Allow",
      Action: ["s3:PutObject"],
      Resource: [requests],
    },
    {
      Sid: "ManageOwnUploads",
      Effect: "Allow",
      Action: ["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
      Resource: [own, requests],
    },
    {
      Sid: "ReadOwnSetsAndCommitRequests",
      Effect: "Allow",
      Action: ["s3:GetObject"],
      Resource: [own, requests],
    },
    {
      // Without ListBucket, S3 answers a missing object with 403; the prefix keeps it to the host's own keys.
      Sid: "ListOwnPrefix",
      Effect: "Allow",
      Action: ["s3:ListBucket"],
      Resource: [target.bucketArn],
      Condition: { StringLike: { "s3:prefix": [`${SETS_PREFIX}${source}/*`, `${INCOMING_PREFIX}${source}/*`] } },
    },
    {
      // The service commits manifests; a host writing one directly could rewrite a committed set.
      Sid: "NeverWriteCommittedManifests",
      Effect: "Deny",
      Action: ["s3:PutObject"],
      Resource: [`${target.bucketArn}/${SETS_PREFIX}*/${MANIFEST_NAME}`],
    },
    {
      Sid: "NeverDestroy",
      Effect: "Deny",
      Action: [...DESTRUCTIVE_ACTIONS, ...TAGGING_ACTIONS],
      Resource: [target.bucketArn, `${target.bucketArn}/*`],
    },
    ...kmsStatements(target),
  ];
}

/**
 * What a host running plain restic against one repository may do: everything restic backup needs,
 * with deletion limited to its own lock files, so `restic forget` and `prune` from the host fail and
 * retention runs from the cloud side (restic's "append-only" setup).
 */
export function resticHostStatements(target: HostAccessTarget, repository: string): PolicyStatementJson[] {
  const prefix = `${RESTIC_PREFIX}${repository}/`;
  return [
    {
      Sid: "ReadWriteOwnRepository",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject"],
      Resource: [`${target.bucketArn}/${prefix}*`],
    },
    {
      Sid: "ListOwnRepository",
      Effect: "Allow",
      Action: ["s3:ListBucket"],
      Resource: [target.bucketArn],
      Condition: { StringLike: { "s3:prefix": [`${prefix}*`] } },
    },
    { Sid: "FindTheBucket", Effect: "Allow", Action: ["s3:GetBucketLocation"], Resource: [target.bucketArn] },
    {
      Sid: "RemoveOwnLocks",
      Effect: "Allow",
      Action: ["s3:DeleteObject"],
      Resource: [`${target.bucketArn}/${prefix}locks/*`],
    },
    {
      Sid: "NeverTag",
      Effect: "Deny",
      Action: TAGGING_ACTIONS,
      Resource: [`${target.bucketArn}/*`],
    },
    {
      Sid: "NeverDestroyBackups",
      Effect: "Deny",
      Action: DESTRUCTIVE_ACTIONS,
      Resource: [
        `${target.bucketArn}/${prefix}snapshots/*`,
        `${target.bucketArn}/${prefix}data/*`,
        `${target.bucketArn}/${prefix}index/*`,
        `${target.bucketArn}/${prefix}keys/*`,
        `${target.bucketArn}/${prefix}config`,
      ],
    },
    ...kmsStatements(target),
  ];
}

function kmsStatements(target: HostAccessTarget): PolicyStatementJson[] {
  if (!target.kmsKeyArn) return [];
  return [
    {
      Sid: "UseTheBucketKey",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: [target.kmsKeyArn],
    },
  ];
}

export function policyDocument(statements: PolicyStatementJson[]) {
  return { Version: "2012-10-17", Statement: statements };
}
