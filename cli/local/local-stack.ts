import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import * as path from "node:path";
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { openCatalog } from "../../shared/catalog/dynamo/open";
import { type Deployment, type LocalStackFile, LocalStackFileSchema } from "../../shared/contracts/deployment";
import { ConfigurationError } from "../../shared/errors";
import type { HeldKey } from "../../shared/keys/master-key";
import type { Log } from "../../shared/log";
import { useDeployment } from "../deployment";
import { masterKeySecretName } from "../operator/key-escrow";
import { recheckFlaggedSets, registerHeldKeys } from "../operator/key-registry";
import { localClients } from "./clients";
import { LOCAL_REGION } from "./defaults";
import { type LocalHandlers, startLocalHandlers } from "./handlers";
import { type RunningEmulator, startEmulator } from "./moto";
import { provision, resourceNames } from "./provision";

export interface LocalStackOptions {
  port?: number;
  /**
   * An emulator (or account) that is already running, e.g. LocalStack: the stack's resources are provisioned
   * into it and the handlers run against it; nothing is started, and stopping leaves it running.
   */
  endpoint?: string;
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
  emulator: StackEmulator;
  handlers: LocalHandlers;
  stop(): Promise<void>;
}

/** The emulator a local stack runs against: the moto it started, or one that was already running. */
export interface StackEmulator {
  endpoint: string;
  /** True when the stack did not start it: stopping the stack leaves it running. */
  external: boolean;
  /** Settles if the emulator the stack started exits; never for an external one. */
  exited: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The whole service on one machine: the AWS emulator, the same resources as the CDK stack, and the
 * Lambda handlers run in-process where AWS would invoke them (the emulator cannot run Lambda code).
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  if (options.stateFile) await refuseLiveStateFile(options.stateFile);
  const emulator = options.endpoint
    ? await useRunningEmulator(options.endpoint)
    : embedded(
        await startEmulator({
          ...(options.port ? { port: options.port } : {}),
          ...(options.progress ? { log: options.progress } : {}),
        }),
      );
  try {
    const names = resourceNames(options.prefix ?? "restorable-local");
    // The CLI in this process (key registration below) finds the stack as any CLI would.
    useDeployment({ region: LOCAL_REGION, endpoint: emulator.endpoint, bucket: names.bucket, table: names.table });
    const clients = localClients({ endpoint: emulator.endpoint, region: LOCAL_REGION });
    const provisioned = { ...(await provision(names, LOCAL_REGION, clients)), endpoint: emulator.endpoint };
    const deployment = { ...provisioned, slackSecret: await connectSlack(clients.secrets, provisioned, options) };
    // A deployed stack needs `restorable key register` once; the local stack is ready to use as it starts.
    const catalog = openCatalog(clients.dynamo, deployment.table);
    const heldKeys = await registerHeldKeys(
      clients.secrets,
      catalog.keyring,
      masterKeySecretName(deployment),
      new Date(),
    );
    // As `key register` does: sets flagged for naming a key now held lose the flag.
    const cleared = await recheckFlaggedSets(catalog.backups, heldKeys, new Date());
    if (cleared.length > 0)
      options.progress?.(`${cleared.length} flagged sets name a held master key: no longer flagged`);
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
        if (options.stateFile) await removeOwnStateFile(options.stateFile);
        await emulator.stop();
      },
    };
  } catch (error) {
    await emulator.stop();
    throw error;
  }
}

function embedded(moto: RunningEmulator): StackEmulator {
  return {
    endpoint: moto.endpoint,
    external: false,
    exited: new Promise((resolve) => moto.process.once("exit", () => resolve())),
    stop: () => moto.stop(),
  };
}

/**
 * An emulator someone else started. Anything that answers HTTP will do here: what it cannot do (a service
 * it does not emulate, a wrong auth token) fails in provisioning with the service's own error.
 */
async function useRunningEmulator(endpoint: string): Promise<StackEmulator> {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (error) {
    throw new ConfigurationError(
      "endpoint-invalid",
      `--endpoint ${endpoint} is not a URL (e.g. http://localhost:4566)`,
      {
        cause: error,
      },
    );
  }
  try {
    await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new ConfigurationError(
      "endpoint-unreachable",
      `nothing answers at ${endpoint}: start the emulator first (e.g. \`localstack start\`, or moto_server -p <port>), ` +
        "or leave out --endpoint to start the embedded moto server",
      { cause: error },
    );
  }
  return {
    endpoint: endpoint.replace(/\/+$/, ""),
    external: true,
    exited: new Promise(() => {}),
    stop: async () => {},
  };
}

/**
 * The stack's Slack secret, as the CDK stack names it: set from RESTORABLE_SLACK_WEBHOOK_URL when that is set
 * at start, so the notifier posts there; absent otherwise, so the notifier prints each message in this
 * terminal (cli/local/handlers.ts). The URL itself is never printed.
 */
async function connectSlack(
  secrets: SecretsManagerClient,
  deployment: Deployment,
  options: Pick<LocalStackOptions, "progress">,
): Promise<string> {
  const name = deployment.slackSecret ?? `restorable/${deployment.bucket}/slack`;
  const url = process.env.RESTORABLE_SLACK_WEBHOOK_URL?.trim();
  if (!url) {
    options.progress?.("Slack: not connected (set RESTORABLE_SLACK_WEBHOOK_URL to post there); alerts print here");
    return name;
  }
  try {
    await secrets.send(new CreateSecretCommand({ Name: name, SecretString: url }));
  } catch (error) {
    if (!(error instanceof ResourceExistsException)) throw error;
    await secrets.send(new PutSecretValueCommand({ SecretId: name, SecretString: url }));
  }
  options.progress?.("Slack: alerts are posted to the webhook in RESTORABLE_SLACK_WEBHOOK_URL");
  return name;
}

/**
 * A second `npm start` in the same checkout must not take over the state file of a stack that is still
 * running (every CLI call would then follow the newer one, and its exit would delete the file). A file
 * left by a stack that died is replaced.
 */
async function refuseLiveStateFile(stateFile: string): Promise<void> {
  const running = await readStateFile(stateFile);
  if (!running || running.pid === process.pid || !isAlive(running.pid)) return;
  throw new ConfigurationError(
    "local-stack-running",
    `a local stack is already running (pid ${running.pid}, emulator ${running.endpoint}, state file ${stateFile}); ` +
      "stop it with Ctrl-C first, or start another one beside it with --port <port> --state-file <other file> " +
      "(and point the CLI at it with RESTORABLE_ENDPOINT, RESTORABLE_BUCKET and RESTORABLE_TABLE)",
  );
}

/** Only the stack that wrote the state file removes it. */
async function removeOwnStateFile(stateFile: string): Promise<void> {
  const current = await readStateFile(stateFile);
  if (current && current.pid !== process.pid) return;
  await rm(stateFile, { force: true });
}

async function readStateFile(stateFile: string): Promise<LocalStackFile | undefined> {
  let text: string;
  try {
    text = await readFile(stateFile, "utf-8");
  } catch {
    return undefined;
  }
  const parsed = LocalStackFileSchema.safeParse(safeJson(text));
  return parsed.success ? parsed.data : undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but someone else's.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
