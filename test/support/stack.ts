import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as path from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { inject } from "vitest";
import { EventPump, type QueueHandler } from "../../cli/local/event-pump";
import { REPOSITORY_ROOT } from "../../cli/local/paths";
import { provision, resourceNames } from "../../cli/local/provision";
import { LocalScheduler, type ScheduledHandler } from "../../cli/local/scheduler";
import { DynamoCatalogStore } from "../../shared/catalog/dynamo-store";
import type { Deployment } from "../../shared/deployment";
import { silentLog } from "../../shared/log";
import { SCHEDULES, type ScheduledFunction } from "../../shared/schedules";

export const REGION = "us-east-1";

export interface TestStack {
  deployment: Deployment & { endpoint: string };
  s3: S3Client;
  dynamo: DynamoDBClient;
  sqs: SQSClient;
  catalog: DynamoCatalogStore;
  handler: QueueHandler;
  pump: EventPump;
  /** Runs a scheduled Lambda's handler now, as EventBridge would, and then lets the indexer drain the queue. */
  runScheduled(name: ScheduledFunction): Promise<unknown>;
  /** Runs the real CLI in a child process against this stack. */
  cli(args: string[], options?: CliOptions): Promise<CliResult>;
}

export interface CliOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Called with the child as soon as it is spawned (to kill it mid-way, say). */
  onSpawn?: (child: import("node:child_process").ChildProcess) => void;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function useEmulator(): string {
  const endpoint = inject("emulatorEndpoint");
  process.env.AWS_ENDPOINT_URL = endpoint;
  return endpoint;
}

export function uniqueName(label: string): string {
  return `t-${label}-${randomBytes(4).toString("hex")}`.toLowerCase();
}

/**
 * The stack's resources under fresh names in the shared emulator, and the indexer handler wired to
 * them exactly as in the local stack. One per test file: the handler module reads its environment
 * once, at import, as it does in Lambda.
 */
export async function startTestStack(label: string): Promise<TestStack> {
  const endpoint = useEmulator();
  const deployment = { ...(await provision(resourceNames(uniqueName(label)), REGION)), endpoint };
  process.env.CATALOG_TABLE_NAME = deployment.table;
  process.env.BACKUP_BUCKET_NAME = deployment.bucket;
  process.env.INGEST_QUEUE_URL = deployment.queueUrl;
  process.env.BUCKET_ENCRYPTION = "AES256";
  process.env.EXPECT_TLS_ONLY_POLICY = "false";
  const { handler } = (await import("../../functions/indexer")) as { handler: QueueHandler };
  const s3 = new S3Client({});
  const dynamo = new DynamoDBClient({});
  const sqs = new SQSClient({});
  const pump = new EventPump({
    sqs,
    queueUrl: deployment.queueUrl as string,
    handler,
    functionName: "indexer",
    region: REGION,
    log: silentLog,
    retryAfterSeconds: 0,
  });
  return {
    deployment,
    s3,
    dynamo,
    sqs,
    catalog: new DynamoCatalogStore(dynamo, deployment.table),
    handler,
    pump,
    async runScheduled(name) {
      const module = (await import(`../../functions/${SCHEDULES[name].handler}.ts`)) as { handler: ScheduledHandler };
      const result = await new LocalScheduler({ [name]: module.handler }, silentLog).run(name);
      await pump.drain();
      return result;
    },
    cli: (args, options = {}) =>
      runCli(args, {
        ...options,
        env: {
          RESTORABLE_BUCKET: deployment.bucket,
          RESTORABLE_TABLE: deployment.table,
          RESTORABLE_REGION: REGION,
          RESTORABLE_ENDPOINT: endpoint,
          RESTORABLE_MASTER_KEY_SECRET: deployment.masterKeySecret,
          ...options.env,
        },
      }),
  };
}

export const CLI = path.join(REPOSITORY_ROOT, "cli", "bin", "restorable.mjs");

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? REPOSITORY_ROOT,
      env: { ...process.env, AWS_ENDPOINT_URL: undefined, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    options.onSpawn?.(child);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf-8").on("data", (text: string) => {
      stdout += text;
    });
    child.stderr.setEncoding("utf-8").on("data", (text: string) => {
      stderr += text;
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
