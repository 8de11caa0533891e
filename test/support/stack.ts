import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as path from "node:path";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { inject } from "vitest";
import { localClients } from "../../cli/local/clients";
import type { EventPump, QueueHandler } from "../../cli/local/event-pump";
import { type LocalHandlerOptions, type LocalHandlers, startLocalHandlers } from "../../cli/local/handlers";
import { REPOSITORY_ROOT } from "../../cli/local/paths";
import { provision, resourceNames } from "../../cli/local/provision";
import type { DynamoCatalogStore } from "../../shared/catalog/dynamo/catalog-store";
import { openCatalog } from "../../shared/catalog/dynamo/open";
import type { Deployment } from "../../shared/contracts/deployment";
import type { ScheduledFunction } from "../../shared/contracts/functions";
import { silentLog } from "../../shared/log";

export const REGION = "us-east-1";

export interface TestStack {
  deployment: Deployment & { endpoint: string };
  s3: S3Client;
  dynamo: DynamoDBClient;
  sqs: SQSClient;
  catalog: DynamoCatalogStore;
  /** Every local handler of this stack (the drill worker's pump, the hypervisor, …). */
  handlers: LocalHandlers;
  /** The indexer handler, to invoke with a hand-made SQS event. */
  indexer: QueueHandler;
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
 * The stack's resources under fresh names in the shared emulator, and the Lambda handlers wired to them by
 * the same function `npm start` uses. Each call builds its own handlers, so a file may start several.
 */
export async function startTestStack(
  label: string,
  options: Pick<LocalHandlerOptions, "silentDrillInstance"> = {},
): Promise<TestStack> {
  const endpoint = useEmulator();
  const clients = localClients({ endpoint, region: REGION });
  const deployment = { ...(await provision(resourceNames(uniqueName(label)), REGION, clients)), endpoint };
  const handlers = startLocalHandlers({
    deployment,
    region: REGION,
    clients,
    log: silentLog,
    run: false,
    retryAfterSeconds: 0,
    ...options,
  });
  const { s3, dynamo, sqs } = clients;
  return {
    deployment,
    s3,
    dynamo,
    sqs,
    catalog: openCatalog(dynamo, deployment.table).backups,
    handlers,
    indexer: handlers.indexer,
    pump: handlers.pump,
    runScheduled: (name) => handlers.runScheduled(name),
    cli: (args, options = {}) =>
      runCli(args, {
        ...options,
        env: {
          RESTORABLE_BUCKET: deployment.bucket,
          RESTORABLE_TABLE: deployment.table,
          RESTORABLE_REGION: REGION,
          RESTORABLE_ENDPOINT: endpoint,
          RESTORABLE_MASTER_KEY_SECRET: deployment.masterKeySecret,
          RESTORABLE_QUEUE_URL: deployment.queueUrl,
          RESTORABLE_DEAD_LETTER_QUEUE_URL: deployment.deadLetterQueueUrl,
          RESTORABLE_DRILL_STATE_MACHINE: deployment.drillStateMachineArn,
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
