import * as z from "zod";

/** CloudFormation output names of the stack, read by the CLI to find a deployment. */
export const STACK_OUTPUTS = {
  bucket: "BackupBucketName",
  table: "CatalogTableName",
  queue: "IngestQueueUrl",
  deadLetterQueue: "IngestDeadLetterQueueUrl",
  encryption: "BackupBucketEncryption",
  masterKeySecret: "MasterKeySecretName",
  drillStateMachine: "DrillStateMachineArn",
  slackSecret: "SlackSecretName",
} as const;

export const DEFAULT_STACK_NAME = "Restorable";

/** Everything a client needs to talk to one deployment of restorable. */
export const DeploymentSchema = z.object({
  region: z.string().min(1),
  /** Only for an emulator or a private endpoint; exported as AWS_ENDPOINT_URL for the SDK. */
  endpoint: z.url().optional(),
  bucket: z.string().min(1),
  table: z.string().min(1),
  queueUrl: z.string().optional(),
  deadLetterQueueUrl: z.string().optional(),
  /** The bucket's intended default encryption: AES256 or aws:kms:<key arn> (shared/storage-policy.ts). */
  encryption: z.string().optional(),
  /** Secrets Manager secret holding the application's master key (shared/keys/master-key.ts). */
  masterKeySecret: z.string().optional(),
  /** The restore-drill state machine (`restorable drill run` starts it). */
  drillStateMachineArn: z.string().optional(),
  /** The secret telling where Slack messages go (shared/contracts/functions.ts: slackSecret). */
  slackSecret: z.string().optional(),
  /** The local stack's drill resources in the emulator (the CDK stack's are its own). */
  drillQueueUrl: z.string().optional(),
  drillLaunchTemplateId: z.string().optional(),
  /** The launch template of `restic prune` jobs (the prune role's instances). */
  pruneLaunchTemplateId: z.string().optional(),
  drillSubnetId: z.string().optional(),
});
export type Deployment = z.infer<typeof DeploymentSchema>;

/** What `npm start` writes to .restorable/local.json. */
export const LocalStackFileSchema = DeploymentSchema.extend({
  kind: z.literal("restorable-local-stack"),
  endpoint: z.url(),
  pid: z.number().int(),
  startedAt: z.iso.datetime(),
});
export type LocalStackFile = z.infer<typeof LocalStackFileSchema>;
