import { mkdir, rm, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoKeyring } from "../../shared/catalog/keyring";
import type { Deployment, LocalStackFile } from "../../shared/deployment";
import type { Log } from "../../shared/log";
import type { HeldKey } from "../../shared/master-key";
import { useDeployment } from "../deployment";
import { masterKeySecretName } from "../operator/key-escrow";
import { registerHeldKeys } from "../operator/key-registry";
import { LOCAL_REGION } from "./defaults";
import { EventPump, type QueueHandler } from "./event-pump";
import { type RunningEmulator, startEmulator } from "./moto";
import { provision, resourceNames } from "./provision";
import { LocalScheduler, type ScheduledHandler } from "./scheduler";

export interface LocalStackOptions {
  port?: number;
  /** Resource name prefix; the default names are what .restorable/local.json points at. */
  prefix?: string;
  /** Where to write local.json; undefined writes nothing (tests). */
  stateFile?: string;
  log: Log;
  progress?: (line: string) => void;
}

export interface LocalStack {
  deployment: Deployment & { endpoint: string };
  /** The master keys the stack holds, already registered, so ingest flags sets made with any other key. */
  heldKeys: HeldKey[];
  emulator: RunningEmulator;
  pump: EventPump;
  scheduler: LocalScheduler;
  stop(): Promise<void>;
}

/**
 * The whole service on one machine: the AWS emulator, the same resources as the CDK stack, and the
 * Lambda handlers run in-process where AWS would invoke them (the emulator cannot run Lambda code).
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const emulator = await startEmulator({
    ...(options.port ? { port: options.port } : {}),
    ...(options.progress ? { log: options.progress } : {}),
  });
  try {
    const names = resourceNames(options.prefix ?? "restorable-local");
    useDeployment({ region: LOCAL_REGION, endpoint: emulator.endpoint, bucket: names.bucket, table: names.table });
    const deployment = { ...(await provision(names, LOCAL_REGION)), endpoint: emulator.endpoint };
    // A deployed stack needs `restorable key register` once; the local stack is ready to use as it starts.
    const heldKeys = await registerHeldKeys(
      new SecretsManagerClient({}),
      new DynamoKeyring(new DynamoDBClient({}), deployment.table),
      masterKeySecretName(deployment),
      new Date(),
    );

    // The handlers read their configuration from the environment, as in Lambda.
    process.env.CATALOG_TABLE_NAME = deployment.table;
    process.env.BACKUP_BUCKET_NAME = deployment.bucket;
    process.env.INGEST_QUEUE_URL = deployment.queueUrl;
    process.env.BUCKET_ENCRYPTION = "AES256";
    process.env.EXPECT_TLS_ONLY_POLICY = "false";
    process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
    const { handler } = (await import("../../functions/indexer")) as { handler: QueueHandler };
    const scheduler = new LocalScheduler(
      {
        verifier: (await import("../../functions/verifier")).handler as ScheduledHandler,
        reconciler: (await import("../../functions/reconciler")).handler as ScheduledHandler,
        retention: (await import("../../functions/retention")).handler as ScheduledHandler,
        bucketAudit: (await import("../../functions/bucket-audit")).handler as ScheduledHandler,
      },
      options.log,
    );
    scheduler.start();

    const pump = new EventPump({
      sqs: new SQSClient({}),
      queueUrl: deployment.queueUrl as string,
      handler,
      functionName: "indexer",
      region: LOCAL_REGION,
      log: options.log,
    });
    pump.start();

    if (options.stateFile) {
      const state: LocalStackFile = {
        kind: "restorable-local-stack",
        ...deployment,
        pid: process.pid,
        startedAt: new Date().toISOString(),
      };
      await mkdir(path.dirname(options.stateFile), { recursive: true });
      await writeFile(options.stateFile, `${JSON.stringify(state, null, 2)}\n`);
    }

    return {
      deployment,
      heldKeys,
      emulator,
      pump,
      scheduler,
      async stop() {
        scheduler.stop();
        await pump.stop();
        if (options.stateFile) await rm(options.stateFile, { force: true });
        await emulator.stop();
      },
    };
  } catch (error) {
    await emulator.stop();
    throw error;
  }
}
