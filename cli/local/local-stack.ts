import { mkdir, rm, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { openCatalog } from "../../shared/catalog/dynamo/open";
import type { Deployment, LocalStackFile } from "../../shared/contracts/deployment";
import type { HeldKey } from "../../shared/keys/master-key";
import type { Log } from "../../shared/log";
import { useDeployment } from "../deployment";
import { masterKeySecretName } from "../operator/key-escrow";
import { registerHeldKeys } from "../operator/key-registry";
import { localClients } from "./clients";
import { LOCAL_REGION } from "./defaults";
import { type LocalHandlers, startLocalHandlers } from "./handlers";
import { type RunningEmulator, startEmulator } from "./moto";
import { provision, resourceNames } from "./provision";

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
  handlers: LocalHandlers;
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
    // The CLI in this process (key registration below) finds the stack as any CLI would.
    useDeployment({ region: LOCAL_REGION, endpoint: emulator.endpoint, bucket: names.bucket, table: names.table });
    const clients = localClients({ endpoint: emulator.endpoint, region: LOCAL_REGION });
    const deployment = { ...(await provision(names, LOCAL_REGION, clients)), endpoint: emulator.endpoint };
    // A deployed stack needs `restorable key register` once; the local stack is ready to use as it starts.
    const heldKeys = await registerHeldKeys(
      clients.secrets,
      openCatalog(clients.dynamo, deployment.table).keyring,
      masterKeySecretName(deployment),
      new Date(),
    );
    process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
    const handlers = startLocalHandlers({ deployment, region: LOCAL_REGION, clients, log: options.log, run: true });

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
      handlers,
      async stop() {
        await handlers.stop();
        if (options.stateFile) await rm(options.stateFile, { force: true });
        await emulator.stop();
      },
    };
  } catch (error) {
    await emulator.stop();
    throw error;
  }
}
