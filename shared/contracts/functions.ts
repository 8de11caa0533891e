import * as z from "zod";
import { ConfigurationError } from "../errors";

/**
 * Every setting a Lambda handler reads from its environment. This is the one place each environment
 * variable is named: the CDK stack builds a function's environment with `environmentFor`, the handler
 * reads it back with `readSettings`, and the local stack passes the same values straight to the handler.
 */
export const SETTINGS = {
  catalogTable: { variable: "CATALOG_TABLE_NAME", schema: z.string().min(1) },
  backupBucket: { variable: "BACKUP_BUCKET_NAME", schema: z.string().min(1) },
  ingestQueueUrl: { variable: "INGEST_QUEUE_URL", schema: z.string().min(1) },
  /** Where messages the indexer gave up on wait; the reconciler raises an alert while any do. */
  deadLetterQueueUrl: { variable: "INGEST_DEAD_LETTER_QUEUE_URL", schema: z.string().min(1) },
  /** The bucket's intended default encryption: AES256, or aws:kms:<key arn> (contracts/storage-policy.ts). */
  bucketEncryption: { variable: "BUCKET_ENCRYPTION", schema: z.string().min(1) },
  /** "repair" puts drifted bucket settings back; "report" only raises the alert. */
  auditMode: { variable: "AUDIT_MODE", schema: z.enum(["repair", "report"]) },
  /** Whether the bucket must refuse plain HTTP (not on an emulator's loopback endpoint without TLS). */
  expectTlsOnlyPolicy: { variable: "EXPECT_TLS_ONLY_POLICY", schema: z.enum(["true", "false"]) },
  /** The Secrets Manager secret holding the application's master key (read only for an opted-in drill). */
  masterKeySecret: { variable: "MASTER_KEY_SECRET_NAME", schema: z.string().min(1) },
  /** The restore-drill state machine, which the dispatcher starts. */
  drillStateMachineArn: { variable: "DRILL_STATE_MACHINE_ARN", schema: z.string().min(1) },
  /** `bucket/key` of the drill agent bundle and of the restic binary instances download, or "none". */
  drillAgentObject: { variable: "DRILL_AGENT_OBJECT", schema: z.string().min(1) },
  drillResticObject: { variable: "DRILL_RESTIC_OBJECT", schema: z.string().min(1) },
  /**
   * The Secrets Manager secret holding where Slack messages go: a webhook URL, or {"token", "channel"} for
   * chat.postMessage. Never in an environment, a log or a message.
   */
  slackSecret: { variable: "SLACK_SECRET_NAME", schema: z.string().min(1) },
} as const;

export type SettingName = keyof typeof SETTINGS;

/** How a function is started: by one of the stack's queues, or on a schedule. */
export type Trigger =
  | { kind: "queue"; queue: "ingest" | "drills"; batchSize: number; maxBatchingWindowSeconds: number }
  /** CloudWatch alarms and Lambda failure destinations, through the stack's SNS topic. */
  | { kind: "topic" }
  | {
      kind: "schedule";
      everyMinutes: number;
      /** The local stack's timer; the emulator stores schedules but never fires them. */
      localEverySeconds: number;
    };

/** One Lambda: what the CDK stack deploys, what the local stack runs, what the handler may read. */
export interface FunctionContract<S extends SettingName = SettingName, T extends Trigger = Trigger> {
  /** File name under functions/, without extension. */
  readonly entry: string;
  readonly description: string;
  readonly settings: readonly S[];
  readonly timeoutSeconds: number;
  readonly memoryMB: number;
  readonly trigger: T;
}

function defineFunction<const S extends SettingName, const T extends Trigger>(
  contract: FunctionContract<S, T>,
): FunctionContract<S, T> {
  return contract;
}

const catalogAndBucket = ["catalogTable", "backupBucket"] as const;

export const FUNCTIONS = {
  indexer: defineFunction({
    entry: "indexer",
    description: "Indexes dump sets and restic snapshots into the catalog as they arrive",
    settings: catalogAndBucket,
    // Long enough for a batch of 10 sets with many components each.
    timeoutSeconds: 120,
    memoryMB: 512,
    trigger: { kind: "queue", queue: "ingest", batchSize: 10, maxBatchingWindowSeconds: 5 },
  }),
  /** Verifies one slice of every restic repository per run: with 30 slices, each file monthly. */
  verifier: defineFunction({
    entry: "verifier",
    description: "Verifies restic repository files against their names",
    settings: catalogAndBucket,
    timeoutSeconds: 15 * 60,
    memoryMB: 1024,
    trigger: { kind: "schedule", everyMinutes: 24 * 60, localEverySeconds: 24 * 60 * 60 },
  }),
  /**
   * Catches what no event reported: dump sets committed or completed without an indexed event, replaced
   * components, restic snapshot changes. The emulator never sends delete-marker events, so the local stack
   * runs it every few seconds to see `restic forget`.
   */
  reconciler: defineFunction({
    entry: "reconciler",
    description: "Hands the indexer dump sets and restic snapshots that no S3 event reported",
    settings: [...catalogAndBucket, "ingestQueueUrl", "deadLetterQueueUrl"],
    timeoutSeconds: 5 * 60,
    memoryMB: 1024,
    trigger: { kind: "schedule", everyMinutes: 60, localEverySeconds: 5 },
  }),
  /** Applies retention to every source once a day; `restorable retention apply` runs it now. */
  retention: defineFunction({
    entry: "retention",
    description: "Applies the retention policies with their safety floors",
    settings: catalogAndBucket,
    timeoutSeconds: 15 * 60,
    memoryMB: 1024,
    trigger: { kind: "schedule", everyMinutes: 24 * 60, localEverySeconds: 24 * 60 * 60 },
  }),
  /** Compares the bucket's settings with the intended ones and puts drifted ones back. */
  bucketAudit: defineFunction({
    entry: "bucket-audit",
    description: "Audits the backup bucket's lifecycle, versioning, encryption and public access",
    settings: [...catalogAndBucket, "bucketEncryption", "auditMode", "expectTlsOnlyPolicy"],
    timeoutSeconds: 2 * 60,
    memoryMB: 1024,
    trigger: { kind: "schedule", everyMinutes: 6 * 60, localEverySeconds: 6 * 60 * 60 },
  }),
  /**
   * Runs the restore-drill state machine's own steps (prepare, wait for the agent, judge) from its queue,
   * and turns the agent's report and heartbeat files into answers to the waiting step.
   */
  drillWorker: defineFunction({
    entry: "drill-worker",
    description: "Runs the restore-drill steps: picks the backup, prepares the agent, judges its report",
    settings: [...catalogAndBucket, "masterKeySecret", "drillAgentObject", "drillResticObject"],
    timeoutSeconds: 5 * 60,
    memoryMB: 512,
    trigger: { kind: "queue", queue: "drills", batchSize: 1, maxBatchingWindowSeconds: 0 },
  }),
  /** Starts the drills whose plan's cron time has come (one schedule for every plan). */
  drillDispatcher: defineFunction({
    entry: "drill-dispatcher",
    description: "Starts the restore drills whose plans are due",
    settings: ["catalogTable", "drillStateMachineArn"],
    timeoutSeconds: 60,
    memoryMB: 512,
    trigger: { kind: "schedule", everyMinutes: 15, localEverySeconds: 60 },
  }),
  /** Terminates any drill instance past its deadline, whatever became of its execution, and records it. */
  drillJanitor: defineFunction({
    entry: "drill-janitor",
    description: "Terminates restore-drill instances past their deadline",
    settings: ["catalogTable"],
    timeoutSeconds: 60,
    memoryMB: 512,
    trigger: { kind: "schedule", everyMinutes: 15, localEverySeconds: 30 },
  }),
  /**
   * Sends every alert not yet sent to Slack (or, with no Slack configured, nowhere but the catalog): many at
   * once become one digest; 429 and 5xx are retried; an alert is sent once.
   */
  notifier: defineFunction({
    entry: "notifier",
    description: "Sends pending alerts to Slack, many at once as one digest",
    settings: ["catalogTable", "slackSecret"],
    timeoutSeconds: 120,
    memoryMB: 512,
    trigger: { kind: "schedule", everyMinutes: 1, localEverySeconds: 3 },
  }),
  /** Judges each source against its expected backup interval: UP, LATE, STALE, PAUSED, and recoveries. */
  healthEvaluator: defineFunction({
    entry: "health-evaluator",
    description: "Judges each source's backups against its expected interval and grace",
    settings: ["catalogTable"],
    timeoutSeconds: 120,
    memoryMB: 512,
    trigger: { kind: "schedule", everyMinutes: 5, localEverySeconds: 15 },
  }),
  /** Turns a CloudWatch alarm or a failed asynchronous invocation (SNS) into an alert. */
  alarmBridge: defineFunction({
    entry: "alarm-bridge",
    description: "Raises an alert for each CloudWatch alarm and failed scheduled run",
    settings: ["catalogTable"],
    timeoutSeconds: 30,
    memoryMB: 256,
    trigger: { kind: "topic" },
  }),
} as const;

export type FunctionName = keyof typeof FUNCTIONS;
type ContractOf<N extends FunctionName> = (typeof FUNCTIONS)[N];
type SettingsOfContract<C> = C extends FunctionContract<infer S, Trigger> ? S : never;

/** The values a function's settings take, by setting name (what the local stack and the CDK stack supply). */
export type SettingValues<C> = { [K in SettingsOfContract<C>]: z.input<(typeof SETTINGS)[K]["schema"]> };
/** A function's settings as its handler reads them, parsed. */
export type Settings<C> = { [K in SettingsOfContract<C>]: z.output<(typeof SETTINGS)[K]["schema"]> };
/** A handler's settings by function name. */
export type SettingsOf<N extends FunctionName> = Settings<ContractOf<N>>;

/** The scheduled functions, by name. */
export type ScheduledFunction = {
  [N in FunctionName]: ContractOf<N>["trigger"] extends { kind: "schedule" } ? N : never;
}[FunctionName];

export const SCHEDULED_FUNCTIONS = (Object.keys(FUNCTIONS) as FunctionName[]).filter(
  (name): name is ScheduledFunction => FUNCTIONS[name].trigger.kind === "schedule",
);

/** The schedule of a scheduled function. */
export function scheduleOf(name: ScheduledFunction): Extract<Trigger, { kind: "schedule" }> {
  return FUNCTIONS[name].trigger as Extract<Trigger, { kind: "schedule" }>;
}

/** A function's environment variables from its settings' values: a missing or misspelt setting fails to compile. */
export function environmentFor<C extends FunctionContract<SettingName, Trigger>>(
  contract: C,
  values: SettingValues<C>,
): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const name of contract.settings) {
    environment[SETTINGS[name].variable] = String((values as Record<string, unknown>)[name]);
  }
  return environment;
}

/** Reads and checks a function's settings from its environment; a missing variable fails loudly, naming it. */
export function readSettings<C extends FunctionContract>(
  contract: C,
  environment: Record<string, string | undefined> = process.env,
): Settings<C> {
  const settings: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const name of contract.settings) {
    const { variable, schema } = SETTINGS[name];
    const result = schema.safeParse(environment[variable]);
    if (result.success) settings[name] = result.data;
    else problems.push(`${variable}: ${result.error.issues.map((issue) => issue.message).join(", ")}`);
  }
  if (problems.length > 0) {
    throw new ConfigurationError("invalid-environment", `environment is incomplete: ${problems.join("; ")}`);
  }
  return settings as Settings<C>;
}

/** Checks values handed over directly (the local stack), as `readSettings` checks an environment. */
export function parseSettings<C extends FunctionContract>(contract: C, values: SettingValues<C>): Settings<C> {
  return readSettings(contract, environmentFor(contract, values));
}
