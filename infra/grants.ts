import { ArnFormat, Stack, Token } from "aws-cdk-lib";
import type { ITableV2 } from "aws-cdk-lib/aws-dynamodb";
import { type IGrantable, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IBucket } from "aws-cdk-lib/aws-s3";
import { CATALOG_INDEXES } from "../shared/contracts/catalog-table";
import { resticSecretPrefix } from "../shared/restic/repository";

/**
 * Narrower than `bucket.grantRead`: exact actions, only under the given key prefixes. ListBucket is
 * included because without it S3 answers a missing object with 403 instead of 404, and the indexer
 * must tell "not there yet" from "not allowed".
 */
export function grantObjectRead(bucket: IBucket, grantee: IGrantable, prefixes: readonly string[]): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging", "s3:GetObjectVersionTagging"],
      resources: prefixes.map((prefix) => bucket.arnForObjects(`${prefix}*`)),
    }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ["s3:ListBucket", "s3:ListBucketVersions"],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { "s3:prefix": prefixes.map((prefix) => `${prefix}*`) } },
    }),
  );
  bucket.encryptionKey?.grantDecrypt(grantee);
}

/** The ARN patterns acknowledged for IAM5: objects are only known at run time, so a prefix is the finest scope. */
export function objectWildcardFinding(bucket: IBucket, prefix: string): string {
  const logicalId = Stack.of(bucket).getLogicalId(bucket.node.defaultChild as never);
  return `AwsSolutions::AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${prefix}*]`;
}

const CATALOG_READ_ACTIONS = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"];
const CATALOG_WRITE_ACTIONS = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"];

/** Catalog access on the table and its named indexes only: never Scan, never DeleteItem (history is kept). */
export function grantCatalogAccess(table: ITableV2, grantee: IGrantable, access: "read" | "read-write"): void {
  const actions = access === "read" ? CATALOG_READ_ACTIONS : [...CATALOG_READ_ACTIONS, ...CATALOG_WRITE_ACTIONS];
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions,
      resources: [
        table.tableArn,
        ...Object.values(CATALOG_INDEXES).map((index) => `${table.tableArn}/index/${index.indexName}`),
      ],
    }),
  );
  table.encryptionKey?.grant(
    grantee,
    "kms:Decrypt",
    ...(access === "read" ? [] : ["kms:Encrypt", "kms:GenerateDataKey*"]),
  );
}

/**
 * Read access to the restic repository passwords of this deployment: the secrets named
 * restorable/<bucket>/restic/* (see shared/restic/repository.ts), and no other secret.
 */
export function grantResticPasswordRead(bucket: IBucket, grantee: IGrantable): string {
  const stack = Stack.of(bucket);
  const arn = stack.formatArn({
    service: "secretsmanager",
    resource: "secret",
    resourceName: `${resticSecretPrefix(bucket.bucketName)}*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
      resources: [arn],
    }),
  );
  const logicalId = stack.getLogicalId(bucket.node.defaultChild as never);
  const region = Token.isUnresolved(stack.region) ? "<AWS::Region>" : stack.region;
  const account = Token.isUnresolved(stack.account) ? "<AWS::AccountId>" : stack.account;
  return `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:${region}:${account}:secret:restorable/<${logicalId}>/restic/*]`;
}

/** Exact object actions on key patterns (S3 ARNs take `*` anywhere in the key). */
export function grantObjectActions(
  bucket: IBucket,
  grantee: IGrantable,
  actions: string[],
  patterns: readonly string[],
): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ actions, resources: patterns.map((pattern) => bucket.arnForObjects(pattern)) }),
  );
  // Exact KMS actions: writing an SSE-KMS object needs a data key, and Decrypt to complete multipart uploads.
  if (actions.some((action) => action.startsWith("s3:Put")))
    bucket.encryptionKey?.grant(grantee, "kms:GenerateDataKey", "kms:Decrypt");
}

export function objectPatternFinding(bucket: IBucket, pattern: string): string {
  const logicalId = Stack.of(bucket).getLogicalId(bucket.node.defaultChild as never);
  return `AwsSolutions::AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${pattern}]`;
}
