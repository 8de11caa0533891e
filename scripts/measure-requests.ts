/**
 * `npx tsx scripts/measure-requests.ts`: measures what a backup, a restore drill and each scheduled run cost in
 * requests, on the local stack, and writes scripts/cost-measured.json for scripts/cost.ts.
 *
 * How: every AWS request of the run goes through a counting proxy in front of the emulator
 * (scripts/counting-proxy.ts), each process signing with an access key of its own (the host's push, the
 * handlers, the operator's CLI), so requests are counted by caller, service and operation, and DynamoDB's
 * request units are sized from what each request read or wrote. Lambda invocations are the handlers' own
 * calls (each SQS batch the event pump hands the indexer or the drill worker, each scheduled run), timed on
 * this machine. What the emulator does inside itself is counted from its effects: S3 event notifications and
 * the state machine's task messages are the messages the queues delivered; Step Functions' state transitions
 * are the states the execution entered (its history).
 *
 * What is measured: backups of a seed-style directory (the backup page's layout; main.dump of two sizes, so
 * that requests per MiB show), each with the health evaluation that reads the source's timeline after it, one drill of a real pg_dump set (PostgreSQL needed: npm test installs it),
 * and each scheduled function with three catalogs (2 sources; 5 sources; 5 sources with more sets each), so that
 * scripts/cost.ts can split each figure into a fixed part, a part per source and a part per set.
 */
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { ListObjectVersionsCommand } from "@aws-sdk/client-s3";
import { GetExecutionHistoryCommand, ListExecutionsCommand } from "@aws-sdk/client-sfn";
import { App } from "aws-cdk-lib";
import { localClients } from "../cli/local/clients";
import { startLocalHandlers } from "../cli/local/handlers";
import { startEmulator } from "../cli/local/moto";
import { REPOSITORY_ROOT } from "../cli/local/paths";
import { provision, resourceNames } from "../cli/local/provision";
import { STUB_FUNCTION_CODE_CONTEXT } from "../infra/constructs/restorable-function";
import { RestorableStack } from "../infra/restorable-stack";
import { openCatalog } from "../shared/catalog/dynamo/open";
import { FUNCTIONS, SCHEDULED_FUNCTIONS, type ScheduledFunction } from "../shared/contracts/functions";
import { silentLog } from "../shared/log";
import { startPostgres } from "../test/support/postgres";
import { writeSeedBackup } from "../test/support/seed-backup";
import { startCountingProxy, type Tally } from "./counting-proxy";

const run = promisify(execFile);
const REGION = "us-east-1";
const CLI = path.join(REPOSITORY_ROOT, "cli", "bin", "restorable.mjs");
const OUTPUT = path.join(REPOSITORY_ROOT, "scripts", "cost-measured.json");
const MiB = 1024 * 1024;
/** main.dump sizes of the measured backups (one warm-up backup first, not counted). */
const SMALL_DUMP_MIB = 4;
const LARGE_DUMP_MIB = 64;
const BACKUPS_PER_SIZE = 3;

/** One Lambda function's measured work: invocations and their time on this machine. */
export interface Invocations {
  invocations: number;
  milliseconds: number;
}

/** What one unit of work (a backup, a drill, a scheduled run) cost, by caller. */
export interface Measured {
  requests: Record<string, Tally>;
  lambda: Record<string, Invocations>;
  /** Messages the queues delivered (S3 event notifications, the state machine's task messages). */
  queueMessages: number;
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
process.env.AWS_REGION = REGION;
// What the drill agent (run by the local hypervisor with this environment) signs with.
process.env.AWS_ACCESS_KEY_ID = "instance";
process.env.AWS_SECRET_ACCESS_KEY = "instance";
// As deployed (infra/constructs/restorable-function.ts): INFO logs and metrics, which the run captures.
process.env.POWERTOOLS_LOG_LEVEL = "INFO";
delete process.env.POWERTOOLS_METRICS_DISABLED;

const output = captureStdout();
const emulator = await startEmulator({ log: (line) => process.stderr.write(`${line}\n`) });
const proxy = await startCountingProxy(emulator.endpoint);
const postgres = await startPostgres();
const scratch = await mkdtemp(path.join(tmpdir(), "restorable-cost-"));
try {
  const direct = localClients({ endpoint: emulator.endpoint, region: REGION });
  const deployment = await provision(resourceNames("cost"), REGION, direct);
  const clients = localClients({
    endpoint: proxy.endpoint,
    region: REGION,
    credentials: { accessKeyId: "service", secretAccessKey: "service" },
  });
  const handlers = startLocalHandlers({
    deployment,
    region: REGION,
    clients,
    log: silentLog,
    run: false,
    retryAfterSeconds: 0,
  });
  const catalog = openCatalog(direct.dynamo, deployment.table);
  const cli = async (caller: string, args: string[]) => {
    const { stdout } = await run(process.execPath, [CLI, ...args], {
      env: {
        ...process.env,
        AWS_ENDPOINT_URL: undefined,
        AWS_ACCESS_KEY_ID: caller,
        AWS_SECRET_ACCESS_KEY: caller,
        RESTORABLE_BUCKET: deployment.bucket,
        RESTORABLE_TABLE: deployment.table,
        RESTORABLE_REGION: REGION,
        RESTORABLE_ENDPOINT: proxy.endpoint,
        RESTORABLE_MASTER_KEY_SECRET: deployment.masterKeySecret,
        RESTORABLE_QUEUE_URL: deployment.queueUrl,
        RESTORABLE_DEAD_LETTER_QUEUE_URL: deployment.deadLetterQueueUrl,
        RESTORABLE_DRILL_STATE_MACHINE: deployment.drillStateMachineArn,
      },
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  };

  /** Lambda's SQS event source mapping: each non-empty batch is one invocation, timed. */
  const pumpAll = async (pump: typeof handlers.pump, name: string, lambda: Record<string, Invocations>) => {
    let messages = 0;
    for (let idle = 0; idle < 2; ) {
      const started = performance.now();
      const handled = await pump.pumpOnce(idle === 0 ? 0 : 1);
      if (handled === 0) {
        idle++;
        continue;
      }
      idle = 0;
      messages += handled;
      const entry = lambda[name] ?? { invocations: 0, milliseconds: 0 };
      lambda[name] = entry;
      entry.invocations++;
      entry.milliseconds += performance.now() - started;
    }
    return messages;
  };

  let stamp = 0;
  const backup = async (source: string, dumpMiB: number): Promise<Measured> => {
    stamp++;
    const name = `202501${String(1 + Math.floor(stamp / 24)).padStart(2, "0")}_${String(stamp % 24).padStart(2, "0")}0000`;
    const directory = path.join(scratch, source, name);
    await writeSeedStyleDirectory(directory, name, dumpMiB * MiB);
    proxy.take();
    output.take();
    await cli("host", ["push", directory, "--source", source, "--json"]);
    const lambda: Record<string, Invocations> = {};
    const queueMessages = await pumpAll(handlers.pump, "indexer", lambda);
    // The next health evaluation reads the source's timeline again (its summary changed): a backup's cost.
    // Its run's fixed reads come along, so this errs high; the run itself is counted with the scheduled ones.
    const began = performance.now();
    await handlers.scheduler.run("healthEvaluator");
    lambda.healthEvaluator = { invocations: 0, milliseconds: performance.now() - began };
    return { requests: proxy.take(), lambda, queueMessages };
  };

  console.error("backups ...");
  await backup("codebolt-prod", SMALL_DUMP_MIB);
  const small: Measured[] = [];
  const large: Measured[] = [];
  for (let index = 0; index < BACKUPS_PER_SIZE; index++) {
    small.push(await backup("codebolt-prod", SMALL_DUMP_MIB));
    large.push(await backup("codebolt-prod", LARGE_DUMP_MIB));
  }
  const backupLogs = output.take();

  console.error("a drill ...");
  const { directory: realSet } = await writeSeedBackup(postgres, { rows: 2000, stamp: "20250102_020000" });
  await cli("host", ["push", realSet, "--source", "drilled", "--json"]);
  await pumpAll(handlers.pump, "indexer", {});
  const [drilled] = (await catalog.backups.listBySource("drilled")) as { id: string }[];
  if (!drilled) throw new Error("the drilled set is not in the catalog");
  handlers.hypervisor.start();
  proxy.take();
  output.take();
  const drillLambda: Record<string, Invocations> = {};
  // The dispatcher starts scheduled drills; `drill run` does the same StartExecution.
  const started = JSON.parse(
    await cli("operator", ["drill", "run", "--source", "drilled", "--backup", drilled.id, "--json"]),
  ) as { drillId: string };
  let drillMessages = 0;
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    drillMessages += await pumpAll(handlers.drillPump, "drillWorker", drillLambda);
    const drill = await catalog.drills.get(started.drillId);
    if (drill && drill.status !== "RUNNING") {
      console.error(`drill ${drill.status}: ${drill.reason ?? ""}`);
      break;
    }
    if (Date.now() > deadline) throw new Error("the drill did not finish within 10 minutes");
  }
  await handlers.hypervisor.stop();
  drillMessages += await pumpAll(handlers.drillPump, "drillWorker", drillLambda);
  const drillRequests = proxy.take();
  const drillRecord = await catalog.drills.get(started.drillId);
  const transitions = await stateTransitions(direct.sfn, deployment.drillStateMachineArn as string);
  const drillLogs = output.take();

  console.error("scheduled runs ...");
  const scheduledRun = async (name: ScheduledFunction): Promise<Measured> => {
    await pumpAll(handlers.pump, "indexer", {});
    proxy.take();
    const began = performance.now();
    await handlers.scheduler.run(name);
    const milliseconds = performance.now() - began;
    return { requests: proxy.take(), lambda: { [name]: { invocations: 1, milliseconds } }, queueMessages: 0 };
  };
  /** The catalog as the scheduled functions see it: how many sources, sets and object versions under sets/. */
  const catalogSize = async () => {
    const sources = await catalog.backups.listSources();
    let sets = 0;
    for (const source of sources) sets += (await catalog.backups.listBySource(source.source)).length;
    return {
      sources: sources.length,
      sets,
      setObjectVersions: await countVersions(direct.s3, deployment.bucket, "sets/"),
    };
  };
  type Size = Awaited<ReturnType<typeof catalogSize>>;
  const scheduled: Record<string, { catalog: Size; run: Measured }[]> = {};
  const measureScheduled = async () => {
    await pumpAll(handlers.pump, "indexer", {});
    const size = await catalogSize();
    console.error(`  with ${size.sources} sources, ${size.sets} sets`);
    for (const name of SCHEDULED_FUNCTIONS) {
      await scheduledRun(name); // the first run of each sets up what later runs find
      const measuredRuns = scheduled[name] ?? [];
      measuredRuns.push({ catalog: size, run: await scheduledRun(name) });
      scheduled[name] = measuredRuns;
    }
  };
  // Three catalogs, so that each figure splits into a fixed part, a part per source and a part per set.
  await measureScheduled();
  for (let index = 1; index <= 3; index++) await backup(`more-${index}`, SMALL_DUMP_MIB);
  await measureScheduled();
  for (let index = 0; index < 6; index++) await backup("more-1", SMALL_DUMP_MIB);
  await measureScheduled();
  const scheduledLogs = output.take();

  await handlers.stop();
  const measured = {
    measuredAt: new Date().toISOString(),
    how:
      "scripts/measure-requests.ts on the local stack: every AWS request through a counting proxy in front of the " +
      "emulator (by the caller's access key, service and operation; DynamoDB request units sized from the items " +
      "read and written, index writes included); Lambda invocations are the handlers' SQS batches and scheduled " +
      "runs, timed on this machine; S3 notifications and task messages are the messages the queues delivered; " +
      "state transitions are the states the drill's execution entered.",
    node: process.version,
    backup: {
      layout: "seed-style directory: main.dump, master-key-id.txt, manifest.txt, SHA256SUMS, codebolt-server.yaml, kg/",
      small: { dumpMiB: SMALL_DUMP_MIB, runs: small.length, perBackup: average(small) },
      large: { dumpMiB: LARGE_DUMP_MIB, runs: large.length, perBackup: average(large) },
    },
    drill: {
      status: drillRecord?.status ?? null,
      localSeconds: drillRecord?.phases.total ?? null,
      stateTransitions: transitions,
      perDrill: { requests: drillRequests, lambda: drillLambda, queueMessages: drillMessages },
    },
    scheduled: Object.fromEntries(
      Object.entries(scheduled).map(([name, runs]) => [
        name,
        { everyMinutes: FUNCTIONS[name as ScheduledFunction].trigger.everyMinutes, runs },
      ]),
    ),
    cloudwatch: cloudWatchOf([...backupLogs, ...drillLogs, ...scheduledLogs]),
    logBytes: {
      perBackup: bytesOf(backupLogs) / (1 + 2 * BACKUPS_PER_SIZE),
      perDrill: bytesOf(drillLogs),
      scheduledRuns: bytesOf(scheduledLogs),
      scheduledRunCount: Object.values(scheduled).reduce((sum, runs) => sum + runs.length * 2, 0),
      scheduledInvocations: Object.keys(scheduled).length,
    },
    stack: stackResources(),
  };
  await writeFile(OUTPUT, `${JSON.stringify(measured, null, 2)}\n`);
  console.error(`wrote ${path.relative(process.cwd(), OUTPUT)}`);
} finally {
  output.restore();
  await rm(scratch, { recursive: true, force: true });
  await proxy.close();
  await postgres.stop();
  await emulator.stop();
}

/** The mean of several measured runs, request by request. */
function average(runs: Measured[]): Measured {
  const sum: Measured = { requests: {}, lambda: {}, queueMessages: 0 };
  for (const measured of runs) {
    sum.queueMessages += measured.queueMessages / runs.length;
    for (const [caller, tally] of Object.entries(measured.requests)) {
      const into = sum.requests[caller] ?? { requests: {}, dynamodb: { readUnits: 0, writeUnits: 0 } };
      sum.requests[caller] = into;
      for (const [operation, count] of Object.entries(tally.requests)) {
        into.requests[operation] = (into.requests[operation] ?? 0) + count / runs.length;
      }
      into.dynamodb.readUnits += tally.dynamodb.readUnits / runs.length;
      into.dynamodb.writeUnits += tally.dynamodb.writeUnits / runs.length;
    }
    for (const [name, invocations] of Object.entries(measured.lambda)) {
      const into = sum.lambda[name] ?? { invocations: 0, milliseconds: 0 };
      sum.lambda[name] = into;
      into.invocations += invocations.invocations / runs.length;
      into.milliseconds += invocations.milliseconds / runs.length;
    }
  }
  return sum;
}

/** Object versions under a prefix (not counted: the measurement's own look). */
async function countVersions(s3: ReturnType<typeof localClients>["s3"], bucket: string, prefix: string) {
  let count = 0;
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: bucket,
        Prefix: prefix,
        KeyMarker: keyMarker,
        VersionIdMarker: versionIdMarker,
      }),
    );
    count += (page.Versions ?? []).length;
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    versionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (keyMarker);
  return count;
}

/** The states the latest execution of the drill state machine entered: what Step Functions bills. */
async function stateTransitions(sfn: ReturnType<typeof localClients>["sfn"], stateMachineArn: string): Promise<number> {
  const { executions = [] } = await sfn.send(new ListExecutionsCommand({ stateMachineArn }));
  const [latest] = executions.sort((a, b) => (b.startDate?.getTime() ?? 0) - (a.startDate?.getTime() ?? 0));
  if (!latest?.executionArn) return 0;
  let entered = 0;
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn: latest.executionArn, nextToken }));
    entered += (page.events ?? []).filter((event) => event.type?.endsWith("StateEntered")).length;
    nextToken = page.nextToken;
  } while (nextToken);
  return entered;
}

/** The distinct custom metrics the handlers published (CloudWatch's embedded metric format, on stdout). */
function cloudWatchOf(lines: string[]) {
  const metrics = new Set<string>();
  for (const line of lines) {
    if (!line.includes('"_aws"')) continue;
    try {
      const record = JSON.parse(line) as {
        _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
        [field: string]: unknown;
      };
      for (const directive of record._aws.CloudWatchMetrics) {
        for (const dimensions of directive.Dimensions) {
          const values = dimensions.map((name) => `${name}=${String(record[name])}`).join(",");
          for (const metric of directive.Metrics) metrics.add(`${directive.Namespace}/${metric.Name} {${values}}`);
        }
      }
    } catch {
      // not a metrics line
    }
  }
  return { customMetrics: metrics.size, metrics: [...metrics].sort() };
}

function bytesOf(lines: string[]): number {
  return lines.filter((line) => !line.includes('"_aws"')).reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);
}

/** The synthesized stack's resources that cost by the month whatever the traffic. */
function stackResources() {
  const app = new App({ context: { [STUB_FUNCTION_CODE_CONTEXT]: true } });
  const stack = new RestorableStack(app, "Restorable");
  const template = app.synth().getStackByName(stack.stackName).template as {
    Resources: Record<string, { Type: string }>;
  };
  const count = (type: string) => Object.values(template.Resources).filter((r) => r.Type === type).length;
  return {
    alarms: count("AWS::CloudWatch::Alarm"),
    secrets: count("AWS::SecretsManager::Secret"),
    kmsKeys: count("AWS::KMS::Key"),
    queuePollers: count("AWS::Lambda::EventSourceMapping"),
    scheduleRules: count("AWS::Events::Rule"),
  };
}

/** Everything the handlers write to stdout (their logs and metrics), line by line, kept from the terminal. */
function captureStdout() {
  const original = process.stdout.write.bind(process.stdout);
  let lines: string[] = [];
  let partial = "";
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    partial += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf-8");
    const parts = partial.split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts.filter((line) => line.length > 0));
    const callback = rest.find((arg) => typeof arg === "function") as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stdout.write;
  return {
    take() {
      const taken = lines;
      lines = [];
      return taken;
    },
    restore() {
      process.stdout.write = original;
    },
  };
}

/** The backup page's layout with a random main.dump of the given size (only its size matters to a push). */
async function writeSeedStyleDirectory(directory: string, name: string, dumpBytes: number): Promise<void> {
  await mkdir(path.join(directory, "kg"), { recursive: true });
  const dump = randomBytes(dumpBytes);
  await writeFile(path.join(directory, "main.dump"), dump);
  await writeFile(path.join(directory, "master-key-id.txt"), "mk-2025-01\n");
  await writeFile(path.join(directory, "codebolt-server.yaml"), "port: 8080\n");
  await writeFile(path.join(directory, "kg", "graph.json"), '{"nodes":[]}');
  const time = `${name.slice(0, 4)}-${name.slice(4, 6)}-${name.slice(6, 8)}T${name.slice(9, 11)}:${name.slice(11, 13)}:00Z`;
  await writeFile(path.join(directory, "manifest.txt"), `timestamp: ${time}\nhostname: db-primary\n`);
  const sum = createHash("sha256").update(dump).digest("hex");
  await writeFile(path.join(directory, "SHA256SUMS"), `${sum}  ${path.join(directory, "main.dump")}\n`);
}
