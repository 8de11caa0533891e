import { createBucketAudit } from "../../functions/bucket-audit";
import type { Observability } from "../../functions/commons/observability";
import { createDrillDispatcher } from "../../functions/drill-dispatcher";
import { createDrillJanitor } from "../../functions/drill-janitor";
import { createDrillWorker } from "../../functions/drill-worker";
import { createHealthEvaluator } from "../../functions/health-evaluator";
import { createIndexer } from "../../functions/indexer";
import { createNotifier } from "../../functions/notifier";
import { createReconciler } from "../../functions/reconciler";
import { createRetention } from "../../functions/retention";
import { createVerifier } from "../../functions/verifier";
import type { Deployment } from "../../shared/contracts/deployment";
import {
  FUNCTIONS,
  type FunctionName,
  parseSettings,
  type ScheduledFunction,
  type SettingValues,
} from "../../shared/contracts/functions";
import type { Log } from "../../shared/log";
import { ConsoleSender } from "../../shared/notify/console-sender";
import type { Sender } from "../../shared/notify/ports";
import type { LocalClients } from "./clients";
import { EventPump, type QueueHandler } from "./event-pump";
import { LocalHypervisor } from "./hypervisor";
import { LocalScheduler, type ScheduledHandler } from "./scheduler";

/** Every handler's settings, by function, for a deployment the local stack (or a test) provisioned. */
export type LocalSettingValues = { [N in FunctionName]: SettingValues<(typeof FUNCTIONS)[N]> };

/**
 * What the CDK stack puts into each function's environment, for a local deployment: the same settings,
 * except what the emulator cannot do (a TLS-only bucket policy on its plain-HTTP endpoint).
 */
export function localSettingValues(deployment: Deployment): LocalSettingValues {
  const common = { catalogTable: deployment.table, backupBucket: deployment.bucket };
  if (!deployment.queueUrl || !deployment.deadLetterQueueUrl) {
    throw new Error("a local deployment has an ingest queue and its dead-letter queue");
  }
  return {
    indexer: common,
    verifier: common,
    reconciler: {
      ...common,
      ingestQueueUrl: deployment.queueUrl,
      deadLetterQueueUrl: deployment.deadLetterQueueUrl,
    },
    retention: common,
    bucketAudit: {
      ...common,
      bucketEncryption: deployment.encryption ?? "AES256",
      auditMode: "repair",
      expectTlsOnlyPolicy: "false",
    },
    // Locally the agent runs from the repository (see hypervisor.ts): no bundle or restic binary to hand out.
    drillWorker: {
      ...common,
      masterKeySecret: deployment.masterKeySecret ?? `restorable/${deployment.bucket}/master-key`,
      drillAgentObject: "none",
      drillResticObject: "none",
    },
    drillDispatcher: {
      catalogTable: deployment.table,
      drillStateMachineArn: deployment.drillStateMachineArn ?? "none",
    },
    drillJanitor: { catalogTable: deployment.table },
    notifier: {
      catalogTable: deployment.table,
      slackSecret: deployment.slackSecret ?? `restorable/${deployment.bucket}/slack`,
    },
    healthEvaluator: { catalogTable: deployment.table },
    alarmBridge: { catalogTable: deployment.table },
  };
}

export interface LocalHandlers {
  clients: LocalClients;
  indexer: QueueHandler;
  pump: EventPump;
  /** The drill worker behind the drill queue, and the stand-in for EC2 that runs drill agents. */
  drillPump: EventPump;
  hypervisor: LocalHypervisor;
  scheduler: LocalScheduler;
  /** Runs a scheduled handler now, as EventBridge would, then lets the indexer drain the queue. */
  runScheduled(name: ScheduledFunction): Promise<unknown>;
  stop(): Promise<void>;
}

export interface LocalHandlerOptions {
  deployment: Deployment;
  region: string;
  clients: LocalClients;
  log: Log;
  /** Fire the scheduled handlers on their local timers and poll the queue continuously (npm start). */
  run: boolean;
  /** Seconds before a failed message is offered again. */
  retryAfterSeconds?: number;
  /** Powertools logger and metrics per function; default: each handler's own. */
  observability?: (name: FunctionName) => Observability;
  /**
   * Where the notifier sends alerts while the stack's Slack secret is absent (no RESTORABLE_SLACK_WEBHOOK_URL
   * at start): default, each message as text on stdout.
   */
  notifierFallback?: Sender;
  /** Tests: drill instances for which this answers true never run their agent. */
  silentDrillInstance?: (instance: { instanceId: string; drillId: string }) => boolean | Promise<boolean>;
}

/**
 * The Lambda handlers in-process, where AWS would invoke them: the indexer behind an SQS poller, the
 * scheduled ones behind timers. The one way `npm start`, the test harness and the benchmarks start them;
 * each call builds its own handlers from the deployment, so several stacks can run in one process.
 */
export function startLocalHandlers(options: LocalHandlerOptions): LocalHandlers {
  const values = localSettingValues(options.deployment);
  const { clients } = options;
  // undefined leaves each handler its own Powertools logger and metrics.
  const observe = (name: FunctionName) => options.observability?.(name);
  const indexer = createIndexer(parseSettings(FUNCTIONS.indexer, values.indexer), clients, observe("indexer"));
  const scheduled: Record<ScheduledFunction, ScheduledHandler> = {
    verifier: createVerifier(parseSettings(FUNCTIONS.verifier, values.verifier), clients, observe("verifier")),
    reconciler: createReconciler(
      parseSettings(FUNCTIONS.reconciler, values.reconciler),
      clients,
      observe("reconciler"),
    ),
    retention: createRetention(parseSettings(FUNCTIONS.retention, values.retention), clients, observe("retention")),
    bucketAudit: createBucketAudit(
      parseSettings(FUNCTIONS.bucketAudit, values.bucketAudit),
      clients,
      observe("bucketAudit"),
    ),
    drillDispatcher: createDrillDispatcher(
      parseSettings(FUNCTIONS.drillDispatcher, values.drillDispatcher),
      clients,
      observe("drillDispatcher"),
    ),
    drillJanitor: createDrillJanitor(
      parseSettings(FUNCTIONS.drillJanitor, values.drillJanitor),
      clients,
      observe("drillJanitor"),
    ),
    notifier: createNotifier(parseSettings(FUNCTIONS.notifier, values.notifier), clients, observe("notifier"), {
      fallback: options.notifierFallback ?? new ConsoleSender(),
    }),
    healthEvaluator: createHealthEvaluator(
      parseSettings(FUNCTIONS.healthEvaluator, values.healthEvaluator),
      clients,
      observe("healthEvaluator"),
    ),
  };
  const drillWorker = createDrillWorker(
    parseSettings(FUNCTIONS.drillWorker, values.drillWorker),
    clients,
    observe("drillWorker"),
  );
  const drillPump = new EventPump({
    sqs: clients.sqs,
    queueUrl: options.deployment.drillQueueUrl as string,
    handler: drillWorker,
    functionName: "drill-worker",
    region: options.region,
    log: options.log,
    batchSize: FUNCTIONS.drillWorker.trigger.batchSize,
    ...(options.retryAfterSeconds !== undefined ? { retryAfterSeconds: options.retryAfterSeconds } : {}),
  });
  const hypervisor = new LocalHypervisor({
    ec2: clients.ec2,
    log: options.log,
    // A drill instance's restic reaches the emulator's S3 with any credentials (on AWS: its instance role).
    environment: {
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? "restorable-local",
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? "restorable-local",
    },
    ...(options.silentDrillInstance ? { silent: options.silentDrillInstance } : {}),
  });
  const pump = new EventPump({
    sqs: clients.sqs,
    queueUrl: options.deployment.queueUrl as string,
    handler: indexer,
    functionName: "indexer",
    region: options.region,
    log: options.log,
    ...(options.retryAfterSeconds !== undefined ? { retryAfterSeconds: options.retryAfterSeconds } : {}),
  });
  const scheduler = new LocalScheduler(scheduled, options.log);
  if (options.run) {
    scheduler.start();
    pump.start();
    drillPump.start();
    hypervisor.start();
  }
  return {
    clients,
    indexer,
    pump,
    drillPump,
    hypervisor,
    scheduler,
    async runScheduled(name) {
      const result = await scheduler.run(name);
      await pump.drain();
      return result;
    },
    async stop() {
      await Promise.all([scheduler.stop(), pump.stop(), drillPump.stop(), hypervisor.stop()]);
    },
  };
}
