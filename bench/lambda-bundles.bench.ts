import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { promisify } from "node:util";
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { App, Stack } from "aws-cdk-lib";
import { type BundlingOptions, LogLevel, NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import type { SQSRecord } from "aws-lambda";
import { localSettingValues } from "../cli/local/handlers";
import {
  bundledEntry,
  LAMBDA_BUNDLING,
  LAMBDA_ENVIRONMENT,
  LAMBDA_RUNTIME,
} from "../infra/constructs/restorable-function";
import { environmentFor, FUNCTIONS, type FunctionName } from "../shared/contracts/functions";
import {
  type BenchContext,
  type Benchmark,
  type BenchResult,
  CLI_BIN,
  isolateEmulator,
  median,
  round2,
} from "./harness";

const run = promisify(execFile);

const ROUNDS = Number(process.env.BENCH_LAMBDA_ROUNDS ?? 5);
const MAX_BUNDLE_KIB = 500;
const MAX_INIT_MS = 150;
/** #17 asks for the first invocation to be reported; this bound is ours (a cold start the caller notices). */
const MAX_FIRST_INVOCATION_MS = 1000;
const SOURCE = "bench-lambda";

/** The bundling before #17 (6d2bad5): CommonJS, each package's `main` build, the whole SDK chain inside. */
const BEFORE: BundlingOptions = {
  format: OutputFormat.CJS,
  target: "node22",
  minify: true,
  sourceMap: true,
  externalModules: [],
  forceDockerBundling: false,
  logLevel: LogLevel.WARNING,
};
const BEFORE_NAME = "same handler bundled as before #17 (CommonJS, the packages' main builds)";

type Variant = "lambda" | "before";

interface Bundle {
  name: FunctionName;
  variant: Variant;
  /** The file Lambda loads, copied with its source map to a directory without node_modules above it. */
  file: string;
  bytes: number;
  metafile: string | null;
}

interface Run {
  initMs: number;
  invokeMs: number;
  outcome: string;
}

/**
 * Every Lambda as `cdk synth` bundles it (NodejsFunction with restorable-function.ts's own options), its size
 * beside the bundling before #17, and each bundle loaded in a fresh Node process outside the repository
 * (no node_modules within reach), with the environment its contract gives it against the local deployment:
 * module init (the `import()` of the bundle) and the first invocation against the emulator, the median of
 * ROUNDS fresh processes each, alternating with the previous bundling's.
 */
export const lambdaBundles: Benchmark = {
  name: "lambda-bundles",
  async run(context: BenchContext): Promise<BenchResult[]> {
    context.log("bundling every function as cdk synth does (and as before #17) ...");
    const bundles = await bundleAll(context.scratch);
    const runner = path.join(context.scratch, "lambda-runner.mjs");
    await writeFile(runner, RUNNER);
    const pinned = await isolateEmulator(context.endpoint, context.log);
    const events = new EventSource(context);
    const results: BenchResult[] = [];
    for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
      const lambda = bundles.find((b) => b.name === name && b.variant === "lambda") as Bundle;
      const before = bundles.find((b) => b.name === name && b.variant === "before") as Bundle;
      if (lambda.metafile) context.log(`${FUNCTIONS[name].entry}: ${await heaviest(lambda.metafile)}`);
      const runs: Record<Variant, Run[]> = { lambda: [], before: [] };
      for (let round = 0; round < ROUNDS; round++) {
        const order: Bundle[] = round % 2 === 0 ? [lambda, before] : [before, lambda];
        for (const bundle of order) {
          const event = await events.next(name);
          const measured = await invokeFresh(runner, bundle, event, context, pinned);
          runs[bundle.variant].push(measured);
          await events.done(name, event);
        }
      }
      const init = (variant: Variant) => round2(median(runs[variant].map((r) => r.initMs)));
      const invoke = (variant: Variant) => round2(median(runs[variant].map((r) => r.invokeMs)));
      context.log(
        `${FUNCTIONS[name].entry}: ${kib(lambda.bytes)} KiB (was ${kib(before.bytes)}), init ${init("lambda")} ms ` +
          `(was ${init("before")}), first invocation ${invoke("lambda")} ms (was ${invoke("before")}): ` +
          `${runs.lambda[0]?.outcome}`,
      );
      results.push(
        figure(`lambda bundle size, ${FUNCTIONS[name].entry} (what Lambda loads)`, kib(lambda.bytes), "KiB", {
          reference: kib(before.bytes),
          target: `≤ ${MAX_BUNDLE_KIB} KiB`,
          met: lambda.bytes <= MAX_BUNDLE_KIB * 1024,
        }),
        figure(`lambda module init (import of the bundle), ${FUNCTIONS[name].entry}`, init("lambda"), "ms", {
          reference: init("before"),
          target: `≤ ${MAX_INIT_MS} ms (median of ${ROUNDS} fresh processes)`,
          met: init("lambda") <= MAX_INIT_MS,
        }),
        figure(`lambda first invocation against the emulator, ${FUNCTIONS[name].entry}`, invoke("lambda"), "ms", {
          reference: invoke("before"),
          target: `≤ ${MAX_FIRST_INVOCATION_MS} ms (ours: #17 sets none)`,
          met: invoke("lambda") <= MAX_FIRST_INVOCATION_MS,
        }),
      );
    }
    return results;
  },
};

function figure(
  name: string,
  value: number,
  unit: string,
  { reference, target, met }: { reference: number; target: string; met: boolean },
): BenchResult {
  return {
    name,
    value,
    unit,
    reference: { name: BEFORE_NAME, value: reference, unit },
    ratio: reference > 0 ? round2(value / reference) : null,
    target,
    met,
  };
}

const kib = (bytes: number) => Math.round((bytes / 1024) * 10) / 10;

/** Synthesizes every function twice (as deployed, and as before #17) in one app and collects the bundles. */
async function bundleAll(scratch: string): Promise<Bundle[]> {
  const app = new App({ outdir: path.join(scratch, "cdk.out") });
  const stacks: Record<Variant, Stack> = { lambda: new Stack(app, "Lambda"), before: new Stack(app, "Before") };
  const bundling: Record<Variant, BundlingOptions> = { lambda: { ...LAMBDA_BUNDLING, metafile: true }, before: BEFORE };
  for (const variant of ["lambda", "before"] as const) {
    for (const [name, contract] of Object.entries(FUNCTIONS)) {
      new NodejsFunction(stacks[variant], name, {
        ...bundledEntry(contract),
        description: name,
        runtime: LAMBDA_RUNTIME,
        bundling: bundling[variant],
      });
    }
  }
  const assembly = app.synth();
  const bundles: Bundle[] = [];
  for (const variant of ["lambda", "before"] as const) {
    const template = assembly.getStackByName(stacks[variant].stackName).template as {
      Resources: Record<string, { Type: string; Properties: { Description?: string; Code?: { S3Key?: string } } }>;
    };
    for (const resource of Object.values(template.Resources)) {
      if (resource.Type !== "AWS::Lambda::Function") continue;
      const name = resource.Properties.Description as FunctionName;
      const asset = path.join(
        assembly.directory,
        `asset.${String(resource.Properties.Code?.S3Key).replace(/\.zip$/, "")}`,
      );
      const fileName = variant === "lambda" ? "index.mjs" : "index.js";
      // Lambda's /var/task: the bundle and its map, nothing around them.
      const directory = path.join(scratch, "task", variant, name);
      await mkdir(directory, { recursive: true });
      for (const file of [fileName, `${fileName}.map`])
        await copyFile(path.join(asset, file), path.join(directory, file));
      const metafile = path.join(asset, "index.meta.json");
      bundles.push({
        name,
        variant,
        file: path.join(directory, fileName),
        bytes: (await stat(path.join(directory, fileName))).size,
        metafile: existsSync(metafile) ? metafile : null,
      });
    }
  }
  return bundles;
}

/** The packages (or our folders) that weigh most in a bundle, from esbuild's metafile. */
async function heaviest(metafile: string, count = 6): Promise<string> {
  const meta = JSON.parse(await readFile(metafile, "utf-8")) as {
    outputs: Record<string, { bytes: number; inputs: Record<string, { bytesInOutput: number }> }>;
  };
  const [, output] = Object.entries(meta.outputs).find(([file]) => !file.endsWith(".map")) ?? [];
  if (!output) return "";
  const weights = new Map<string, number>();
  for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) {
    const owner = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? file.split("/").slice(0, 2).join("/");
    weights.set(owner, (weights.get(owner) ?? 0) + bytesInOutput);
  }
  return [...weights]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([owner, bytes]) => `${owner} ${kib(bytes)}`)
    .join(", ");
}

/**
 * Loads a bundle in a fresh process, as Lambda's runtime does (the import is the module init; the handler
 * then gets one event), and reports both times. The process sees only a Lambda's environment.
 */
async function invokeFresh(
  runner: string,
  bundle: Bundle,
  event: unknown,
  context: BenchContext,
  pinned: string[],
): Promise<Run> {
  const contract = FUNCTIONS[bundle.name];
  const directory = path.dirname(bundle.file);
  const eventFile = path.join(directory, "event.json");
  const resultFile = path.join(directory, "result.json");
  await writeFile(eventFile, JSON.stringify(event));
  const region = context.deployment.region;
  const settings = localSettingValues(context.deployment)[bundle.name];
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    ...LAMBDA_ENVIRONMENT,
    ...environmentFor(contract, settings as never),
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: "restorable-bench",
    AWS_SECRET_ACCESS_KEY: "restorable-bench",
    AWS_SESSION_TOKEN: "restorable-bench",
    AWS_ENDPOINT_URL: context.endpoint,
    AWS_LAMBDA_FUNCTION_NAME: `restorable-${contract.entry}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(contract.memoryMB),
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_EXECUTION_ENV: "AWS_Lambda_nodejs24.x",
    LAMBDA_TASK_ROOT: directory,
    // Lambda runs Node 24; on this machine's Node 20 the SDK would print a deprecation notice each time.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    BENCH_BUNDLE: bundle.file,
    BENCH_EVENT_FILE: eventFile,
    BENCH_RESULT_FILE: resultFile,
    BENCH_TIMEOUT_MS: String(contract.timeoutSeconds * 1000),
  };
  const [command, ...args] = [...pinned, process.execPath, runner];
  try {
    await run(command as string, args, { env, cwd: directory, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`${bundle.variant} bundle of ${contract.entry} failed: ${stderr?.slice(-2000) ?? error}`);
  }
  return JSON.parse(await readFile(resultFile, "utf-8")) as Run;
}

/** What each function is invoked with: what its trigger delivers, made of real work where there is some. */
class EventSource {
  private readonly sqs = new SQSClient({});
  private pushes = 0;
  private drills = 0;

  constructor(private readonly context: BenchContext) {}

  async next(name: FunctionName): Promise<unknown> {
    const trigger = FUNCTIONS[name].trigger;
    const region = this.context.deployment.region;
    if (trigger.kind === "queue" && trigger.queue === "ingest") {
      // One batch of the ingest queue: the S3 events of a set just pushed by the real CLI.
      await this.push();
      return { Records: await this.receive(this.context.deployment.queueUrl as string) };
    }
    if (trigger.kind === "queue") {
      // The state machine's first step of a drill of the pushed source (its latest backup).
      const drillId = `d-${new Date().toISOString().replace(/[-:]/g, "").slice(0, 15)}Z-${randomBytes(4).toString("hex")}`;
      this.drills++;
      const body = JSON.stringify({
        task: "prepare",
        token: `bench-token-${this.drills}`,
        request: { drillId, source: SOURCE, backupId: null, trigger: "manual" },
      });
      return { Records: [sqsRecord(body, this.context.deployment.drillQueueUrl as string, region)] };
    }
    if (trigger.kind === "topic") {
      const message = JSON.stringify({
        AlarmName: "restorable-bench",
        NewStateValue: "ALARM",
        NewStateReason: "bench",
        StateChangeTime: new Date().toISOString(),
      });
      return {
        Records: [
          {
            EventSource: "aws:sns",
            EventVersion: "1.0",
            EventSubscriptionArn: `arn:aws:sns:${region}:000000000000:bench`,
            Sns: {
              Type: "Notification",
              MessageId: randomUUID(),
              TopicArn: `arn:aws:sns:${region}:000000000000:bench`,
              Subject: "ALARM",
              Message: message,
              Timestamp: new Date().toISOString(),
              MessageAttributes: {},
            },
          },
        ],
      };
    }
    return {
      version: "0",
      id: randomUUID(),
      "detail-type": "Scheduled Event",
      source: "aws.events",
      account: "000000000000",
      time: new Date().toISOString(),
      region,
      resources: [],
      detail: {},
    };
  }

  /** As Lambda deletes a batch it handled. */
  async done(name: FunctionName, event: unknown): Promise<void> {
    const trigger = FUNCTIONS[name].trigger;
    if (trigger.kind !== "queue" || trigger.queue !== "ingest") return;
    const records = (event as { Records: (SQSRecord & { receiptHandle: string })[] }).Records;
    for (let start = 0; start < records.length; start += 10) {
      await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.context.deployment.queueUrl,
          Entries: records.slice(start, start + 10).map((record, index) => ({
            Id: String(index),
            ReceiptHandle: record.receiptHandle,
          })),
        }),
      );
    }
  }

  private async push(): Promise<void> {
    this.pushes++;
    const stamp = `2025010${1 + Math.floor(this.pushes / 10)}_02${String(this.pushes % 10).padStart(2, "0")}00`;
    const directory = path.join(this.context.scratch, "sets", stamp);
    await writeSeedStyleDirectory(directory, stamp);
    await run(process.execPath, [CLI_BIN, "push", directory, "--source", SOURCE, "--json"], {
      env: {
        ...process.env,
        AWS_ENDPOINT_URL: undefined,
        RESTORABLE_BUCKET: this.context.bucket,
        RESTORABLE_TABLE: this.context.table,
        RESTORABLE_REGION: this.context.deployment.region,
        RESTORABLE_ENDPOINT: this.context.endpoint,
      },
    });
  }

  private async receive(queueUrl: string): Promise<SQSRecord[]> {
    const records: SQSRecord[] = [];
    for (;;) {
      const { Messages = [] } = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: records.length === 0 ? 5 : 1,
          VisibilityTimeout: 300,
          MessageSystemAttributeNames: ["All"],
        }),
      );
      if (Messages.length === 0) return records;
      for (const message of Messages) {
        records.push({
          ...sqsRecord(message.Body ?? "", queueUrl, this.context.deployment.region),
          messageId: message.MessageId ?? randomUUID(),
          receiptHandle: message.ReceiptHandle ?? "",
        });
      }
    }
  }
}

function sqsRecord(body: string, queueUrl: string, region: string): SQSRecord {
  const now = String(Date.now());
  return {
    messageId: randomUUID(),
    receiptHandle: randomUUID(),
    body,
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: now,
      SenderId: "bench",
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: `arn:aws:sqs:${region}:000000000000:${queueUrl.split("/").pop()}`,
    awsRegion: region,
  };
}

/** A small directory laid out as the seed's backup script writes one (a dump, the key id, a directory, sums). */
async function writeSeedStyleDirectory(directory: string, stamp: string): Promise<void> {
  await mkdir(path.join(directory, "kg"), { recursive: true });
  const dump = randomBytes(256 * 1024);
  await writeFile(path.join(directory, "main.dump"), dump);
  await writeFile(path.join(directory, "master-key-id.txt"), "mk-bench\n");
  await writeFile(path.join(directory, "kg", "graph.json"), '{"nodes":[]}');
  const iso = `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}Z`;
  await writeFile(
    path.join(directory, "manifest.txt"),
    `timestamp: ${iso}\nhostname: bench\nserver_version: codebolt-server 1.4.2\n`,
  );
  const { createHash } = await import("node:crypto");
  const sum = createHash("sha256").update(dump).digest("hex");
  await writeFile(path.join(directory, "SHA256SUMS"), `${sum}  ${path.join(directory, "main.dump")}\n`);
}

/**
 * Runs in the fresh process: the import of the bundle is Lambda's module init; then one invocation with a
 * Lambda context. Results go to a file, since the handler's logs and metrics go to stdout as in Lambda.
 */
const RUNNER = `import { readFileSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";
const started = performance.now();
const loaded = await import(pathToFileURL(process.env.BENCH_BUNDLE).href);
const initMs = performance.now() - started;
const handler = loaded.handler ?? loaded.default?.handler;
const event = JSON.parse(readFileSync(process.env.BENCH_EVENT_FILE, "utf-8"));
const name = process.env.AWS_LAMBDA_FUNCTION_NAME;
const deadline = Date.now() + Number(process.env.BENCH_TIMEOUT_MS);
const context = {
  functionName: name,
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:" + process.env.AWS_REGION + ":000000000000:function:" + name,
  memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
  awsRequestId: randomUUID(),
  logGroupName: "/aws/lambda/" + name,
  logStreamName: "bench",
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => deadline - Date.now(),
  done() {}, fail() {}, succeed() {},
};
const invoked = performance.now();
let outcome;
try {
  outcome = JSON.stringify(await handler(event, context)) ?? "undefined";
} catch (error) {
  outcome = "threw " + (error && error.name) + ": " + (error && error.message);
}
const invokeMs = performance.now() - invoked;
writeFileSync(process.env.BENCH_RESULT_FILE, JSON.stringify({ initMs, invokeMs, outcome: String(outcome).slice(0, 300) }));
process.exit(0);
`;
