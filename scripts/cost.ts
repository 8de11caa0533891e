/**
 * What the control plane costs a month on AWS for N sources backing up daily with a drill each month.
 *
 *   npx tsx scripts/cost.ts              the table (markdown) and the figures behind it
 *   npx tsx scripts/cost.ts --readme     also writes the table into README.md ("What it costs")
 *
 * From two files and nothing else: scripts/cost-measured.json (requests, request units, Lambda invocations and
 * their time per backup, per drill and per scheduled run, measured on the local stack by
 * scripts/measure-requests.ts) and scripts/prices.json (AWS's list prices, with the date they are from).
 * The assumptions that are not measured are the constants below, each with why.
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { FUNCTIONS, type FunctionName } from "../shared/contracts/functions";
import { DEFAULT_DRILL_PLAN } from "../shared/drills/plan";
import { planRetention } from "../shared/retention/engine";
import { DEFAULT_DUMPSET_POLICY } from "../shared/retention/policy";
import { s3PriceClass, type Tally } from "./counting-proxy";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const MEASURED_FILE = path.join(HERE, "cost-measured.json");
export const PRICES_FILE = path.join(HERE, "prices.json");
export const README_FILE = path.join(HERE, "..", "README.md");

const HOURS_PER_MONTH = 730;
/** Daily backups: a month of AWS's 730 hours. */
const BACKUPS_PER_SOURCE = HOURS_PER_MONTH / 24;
/** Monthly drills, as the backup page asks. */
const DRILLS_PER_SOURCE = 1;
/**
 * Not measured: how long a drill instance runs. Locally the agent restores in seconds; on EC2 the instance
 * boots, installs Node.js and PostgreSQL from Amazon Linux's repositories and downloads the set first. Ten
 * minutes is the README's own figure for a small set; it grows with the set's size.
 */
export const DRILL_INSTANCE_MINUTES = 10;
/** Lambda's SQS event source keeps 5 long polls (20 s) open on each queue, messages or not. */
const POLLS_PER_QUEUE_PER_MONTH = 5 * 3 * 60 * HOURS_PER_MONTH;
/** Lambda's own records per invocation in the JSON log format (platform.start and platform.report). */
const PLATFORM_LOG_BYTES = 600;
/** Custom metrics and alarms are billed by the hour they exist; a month of them is their monthly price. */
export const TABLE_SOURCES = [10, 1_000, 10_000] as const;
/** The target of #17: the control plane of 1,000 sources, drill instances aside. */
export const TARGET = { sources: 1_000, dollars: 5 } as const;

export interface Invocations {
  invocations: number;
  milliseconds: number;
}

export interface MeasuredRun {
  requests: Record<string, Tally>;
  lambda: Record<string, Invocations>;
  queueMessages: number;
}

export interface CatalogSize {
  sources: number;
  sets: number;
  setObjectVersions: number;
}

export interface MeasuredFile {
  measuredAt: string;
  how: string;
  backup: { small: { dumpMiB: number; perBackup: MeasuredRun }; large: { dumpMiB: number; perBackup: MeasuredRun } };
  drill: { status: string | null; localSeconds: number | null; stateTransitions: number; perDrill: MeasuredRun };
  scheduled: Record<string, { everyMinutes: number; runs: { catalog: CatalogSize; run: MeasuredRun }[] }>;
  cloudwatch: { customMetrics: number };
  logBytes: { perBackup: number; perDrill: number; scheduledRuns: number; scheduledRunCount: number };
  stack: { alarms: number; secrets: number; kmsKeys: number; queuePollers: number; scheduleRules: number };
}

export interface PriceFile {
  asOf: string;
  lambda: { perGbSecondArm: number; perMillionRequests: number };
  dynamodb: { perMillionWriteRequestUnits: number; perMillionReadRequestUnits: number };
  sqs: { perMillionRequests: number };
  stepFunctions: { perThousandStateTransitions: number };
  eventBridge: { perMillionScheduledRuleEvents: number };
  s3: { perThousandPutCopyPostListRequests: number; perThousandGetAndOtherRequests: number };
  kms: { perKeyMonth: number; perTenThousandRequests: number };
  secretsManager: { perSecretMonth: number; perTenThousandApiCalls: number };
  cloudWatch: { perCustomMetricMonth: number; perStandardAlarmMonth: number; perGbLogsIngested: number };
  ec2: { perHour: Record<string, number> };
  ebs: { perGp3GbMonth: number };
}

/** A month of usage, in the units AWS bills. */
export interface Usage {
  lambdaRequests: number;
  lambdaGbSeconds: number;
  dynamoReadUnits: number;
  dynamoWriteUnits: number;
  sqsRequests: number;
  s3WriteRequests: number;
  s3ReadRequests: number;
  secretsApiCalls: number;
  stateTransitions: number;
  scheduledRuleEvents: number;
  logBytes: number;
}

export interface CostRow {
  sources: number;
  lambda: number;
  dynamodb: number;
  sqs: number;
  s3: number;
  stepFunctions: number;
  eventBridge: number;
  cloudWatch: number;
  keysAndSecrets: number;
  /** Everything above: the control plane without drill instances. */
  controlPlane: number;
  drillInstances: number;
  total: number;
}

export function loadInputs(): { measured: MeasuredFile; prices: PriceFile } {
  return {
    measured: JSON.parse(readFileSync(MEASURED_FILE, "utf-8")) as MeasuredFile,
    prices: JSON.parse(readFileSync(PRICES_FILE, "utf-8")) as PriceFile,
  };
}

/** Sets a source keeps under the default policy after a year of daily backups, by the retention engine itself. */
export function retainedSetsPerSource(): number {
  const newest = Date.parse("2025-12-31T02:00:00Z");
  const items = Array.from({ length: 365 }, (_, day) => ({
    id: `d${day}`,
    time: new Date(newest - day * 86_400_000).toISOString(),
    hostname: "source",
  }));
  return planRetention(items, DEFAULT_DUMPSET_POLICY).reduce((sum, group) => sum + group.keep.length, 0);
}

const emptyUsage = (): Usage => ({
  lambdaRequests: 0,
  lambdaGbSeconds: 0,
  dynamoReadUnits: 0,
  dynamoWriteUnits: 0,
  sqsRequests: 0,
  s3WriteRequests: 0,
  s3ReadRequests: 0,
  secretsApiCalls: 0,
  stateTransitions: 0,
  scheduledRuleEvents: 0,
  logBytes: 0,
});

const memoryGb = (name: string) => (FUNCTIONS[name as FunctionName]?.memoryMB ?? 1024) / 1024;

/**
 * Adds `times` runs of a measured unit of work. The operator's own CLI is left out (in production the
 * dispatcher starts scheduled drills), and so are SQS receives: Lambda's pollers make those whether or not
 * there are messages (counted once, as a fixed cost).
 */
function addRun(usage: Usage, run: MeasuredRun, times: number, logBytesPerRun: number): void {
  for (const [caller, tally] of Object.entries(run.requests)) {
    if (caller === "operator") continue;
    for (const [call, count] of Object.entries(tally.requests)) {
      const [service, operation = ""] = call.split(":");
      if (service === "s3") {
        const priceClass = s3PriceClass(operation);
        if (priceClass === "write") usage.s3WriteRequests += count * times;
        if (priceClass === "read") usage.s3ReadRequests += count * times;
      } else if (service === "sqs" && operation !== "ReceiveMessage") {
        usage.sqsRequests += count * times;
      } else if (service === "secretsmanager") {
        usage.secretsApiCalls += count * times;
      }
    }
    usage.dynamoReadUnits += tally.dynamodb.readUnits * times;
    usage.dynamoWriteUnits += tally.dynamodb.writeUnits * times;
  }
  // Each message the queues delivered was sent once (by S3's notification, or by the state machine).
  usage.sqsRequests += run.queueMessages * times;
  for (const [name, { invocations, milliseconds }] of Object.entries(run.lambda)) {
    usage.lambdaRequests += invocations * times;
    usage.lambdaGbSeconds += (milliseconds / 1000) * memoryGb(name) * times;
    usage.logBytes += invocations * PLATFORM_LOG_BYTES * times;
  }
  usage.logBytes += logBytesPerRun * times;
}

/** Every number in a measured run, flattened, so that it can be fitted and rebuilt. */
function flatten(run: MeasuredRun): Record<string, number> {
  const flat: Record<string, number> = { queueMessages: run.queueMessages };
  for (const [caller, tally] of Object.entries(run.requests)) {
    for (const [call, count] of Object.entries(tally.requests)) flat[`req|${caller}|${call}`] = count;
    flat[`rru|${caller}`] = tally.dynamodb.readUnits;
    flat[`wru|${caller}`] = tally.dynamodb.writeUnits;
  }
  for (const [name, invocations] of Object.entries(run.lambda)) {
    flat[`inv|${name}`] = invocations.invocations;
    flat[`ms|${name}`] = invocations.milliseconds;
  }
  return flat;
}

function unflatten(flat: Record<string, number>): MeasuredRun {
  const run: MeasuredRun = { requests: {}, lambda: {}, queueMessages: flat.queueMessages ?? 0 };
  for (const [key, value] of Object.entries(flat)) {
    const [kind, caller = "", call = ""] = key.split("|");
    const tally = () => (run.requests[caller] ??= { requests: {}, dynamodb: { readUnits: 0, writeUnits: 0 } });
    const lambda = () => (run.lambda[caller] ??= { invocations: 0, milliseconds: 0 });
    if (kind === "req") tally().requests[call] = value;
    if (kind === "rru") tally().dynamodb.readUnits = value;
    if (kind === "wru") tally().dynamodb.writeUnits = value;
    if (kind === "inv") lambda().invocations = value;
    if (kind === "ms") lambda().milliseconds = value;
  }
  return run;
}

/**
 * One scheduled run for a catalog of `sources` sources and `sets` sets: each measured request count and request
 * unit split into a fixed part, a part per source and a part per set (least squares over the three measured
 * catalogs, none negative). Listing the bucket's versions under sets/ takes a request per 1,000 versions,
 * whatever the fit says. A run's time is its requests times its measured time per request: the handlers wait
 * on AWS one request after another, and times on one loaded machine are too noisy to fit on their own.
 */
export function scheduledRun(
  runs: { catalog: CatalogSize; run: MeasuredRun }[],
  sources: number,
  sets: number,
): MeasuredRun {
  const flats = runs.map(({ run }) => flatten(run));
  const keys = new Set(flats.flatMap((flat) => Object.keys(flat)));
  const predicted: Record<string, number> = {};
  for (const key of keys) {
    if (key.startsWith("ms|") || key.startsWith("inv|")) continue;
    const points = runs.map(({ catalog }, index) => ({
      sources: catalog.sources,
      sets: catalog.sets,
      value: flats[index]?.[key] ?? 0,
    }));
    const { fixed, perSource, perSet } = fitNonNegative(points);
    predicted[key] = fixed + perSource * sources + perSet * sets;
  }
  const versionsPerSet =
    runs.reduce((sum, { catalog }) => sum + catalog.setObjectVersions / Math.max(1, catalog.sets), 0) / runs.length;
  for (const key of Object.keys(predicted)) {
    if (key.endsWith("|s3:ListObjectVersions")) {
      predicted[key] = Math.max(predicted[key] ?? 0, Math.ceil((sets * versionsPerSet) / 1000));
    }
  }
  const requestsOf = (flat: Record<string, number>) =>
    Object.entries(flat).reduce((sum, [key, value]) => (key.startsWith("req|") ? sum + value : sum), 0);
  for (const name of new Set(runs.flatMap(({ run }) => Object.keys(run.lambda)))) {
    const milliseconds = runs.reduce((sum, { run }) => sum + (run.lambda[name]?.milliseconds ?? 0), 0);
    const requests = flats.reduce((sum, flat) => sum + requestsOf(flat), 0);
    const perRequest = milliseconds / Math.max(1, requests);
    predicted[`inv|${name}`] = 1;
    predicted[`ms|${name}`] = requests > 0 ? perRequest * requestsOf(predicted) : milliseconds / runs.length;
  }
  return unflatten(predicted);
}

/** value ≈ fixed + perSource·sources + perSet·sets, with every coefficient ≥ 0. */
function fitNonNegative(points: { sources: number; sets: number; value: number }[]) {
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
  const solve = (columns: ("sources" | "sets")[]) => {
    // Normal equations for value = fixed + Σ coefficient·column, by Gaussian elimination (at most 3×3).
    const rows = points.map((point) => [1, ...columns.map((column) => point[column])]);
    const size = columns.length + 1;
    const a = Array.from({ length: size }, (_, i) =>
      Array.from({ length: size + 1 }, (_, j) =>
        j < size
          ? rows.reduce((sum, row) => sum + (row[i] as number) * (row[j] as number), 0)
          : rows.reduce((sum, row, index) => sum + (row[i] as number) * (points[index]?.value ?? 0), 0),
      ),
    );
    for (let column = 0; column < size; column++) {
      const pivot = a[column]?.[column] ?? 0;
      if (Math.abs(pivot) < 1e-12) return undefined;
      for (let row = 0; row < size; row++) {
        if (row === column) continue;
        const target = a[row] as number[];
        const factor = (target[column] ?? 0) / pivot;
        for (let j = column; j <= size; j++) target[j] = (target[j] ?? 0) - factor * (a[column]?.[j] ?? 0);
      }
    }
    return Array.from({ length: size }, (_, i) => (a[i]?.[size] ?? 0) / (a[i]?.[i] ?? 1));
  };
  for (const columns of [["sources", "sets"], ["sets"], ["sources"]] as ("sources" | "sets")[][]) {
    const solution = solve(columns);
    if (!solution || solution.slice(1).some((coefficient) => coefficient < 0)) continue;
    const coefficients = Object.fromEntries(columns.map((column, index) => [column, solution[index + 1] as number]));
    const fixed = Math.max(0, solution[0] as number);
    return { fixed, perSource: coefficients.sources ?? 0, perSet: coefficients.sets ?? 0 };
  }
  return { fixed: Math.max(0, mean(points.map((point) => point.value))), perSource: 0, perSet: 0 };
}

/** A month of the control plane's usage for `sources` sources in the steady state (a year of backups kept). */
export function monthlyUsage(measured: MeasuredFile, sources: number): Usage {
  const usage = emptyUsage();
  const sets = sources * retainedSetsPerSource();
  addRun(usage, measured.backup.small.perBackup, sources * BACKUPS_PER_SOURCE, measured.logBytes.perBackup);
  addRun(usage, measured.drill.perDrill, sources * DRILLS_PER_SOURCE, measured.logBytes.perDrill);
  usage.stateTransitions += measured.drill.stateTransitions * sources * DRILLS_PER_SOURCE;
  const logBytesPerScheduledRun = measured.logBytes.scheduledRuns / Math.max(1, measured.logBytes.scheduledRunCount);
  for (const { everyMinutes, runs } of Object.values(measured.scheduled)) {
    const runsPerMonth = (HOURS_PER_MONTH * 60) / everyMinutes;
    addRun(usage, scheduledRun(runs, sources, sets), runsPerMonth, logBytesPerScheduledRun);
    usage.scheduledRuleEvents += runsPerMonth;
  }
  usage.sqsRequests += measured.stack.queuePollers * POLLS_PER_QUEUE_PER_MONTH;
  return usage;
}

/** What `sources` sources cost a month, by service. */
export function monthlyCost(measured: MeasuredFile, prices: PriceFile, sources: number): CostRow {
  const usage = monthlyUsage(measured, sources);
  const lambda =
    usage.lambdaGbSeconds * prices.lambda.perGbSecondArm +
    (usage.lambdaRequests / 1e6) * prices.lambda.perMillionRequests;
  const dynamodb =
    (usage.dynamoReadUnits / 1e6) * prices.dynamodb.perMillionReadRequestUnits +
    (usage.dynamoWriteUnits / 1e6) * prices.dynamodb.perMillionWriteRequestUnits;
  const sqs = (usage.sqsRequests / 1e6) * prices.sqs.perMillionRequests;
  const s3 =
    (usage.s3WriteRequests / 1000) * prices.s3.perThousandPutCopyPostListRequests +
    (usage.s3ReadRequests / 1000) * prices.s3.perThousandGetAndOtherRequests;
  const stepFunctions = (usage.stateTransitions / 1000) * prices.stepFunctions.perThousandStateTransitions;
  const eventBridge = (usage.scheduledRuleEvents / 1e6) * prices.eventBridge.perMillionScheduledRuleEvents;
  const cloudWatch =
    measured.cloudwatch.customMetrics * prices.cloudWatch.perCustomMetricMonth +
    measured.stack.alarms * prices.cloudWatch.perStandardAlarmMonth +
    (usage.logBytes / 2 ** 30) * prices.cloudWatch.perGbLogsIngested;
  const keysAndSecrets =
    measured.stack.kmsKeys * prices.kms.perKeyMonth +
    measured.stack.secrets * prices.secretsManager.perSecretMonth +
    (usage.secretsApiCalls / 10_000) * prices.secretsManager.perTenThousandApiCalls;
  const controlPlane = lambda + dynamodb + sqs + s3 + stepFunctions + eventBridge + cloudWatch + keysAndSecrets;
  const instance = DEFAULT_DRILL_PLAN.instance;
  const hourly = prices.ec2.perHour[instance.type];
  if (hourly === undefined) throw new Error(`prices.json has no price for ${instance.type}`);
  const instanceHours = (sources * DRILLS_PER_SOURCE * DRILL_INSTANCE_MINUTES) / 60;
  const drillInstances =
    instanceHours * hourly + ((instance.diskGiB * instanceHours) / HOURS_PER_MONTH) * prices.ebs.perGp3GbMonth;
  return {
    sources,
    lambda,
    dynamodb,
    sqs,
    s3,
    stepFunctions,
    eventBridge,
    cloudWatch,
    keysAndSecrets,
    controlPlane,
    drillInstances,
    total: controlPlane + drillInstances,
  };
}

export const dollars = (value: number) =>
  `$${value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

const COLUMNS: [keyof CostRow, string][] = [
  ["lambda", "Lambda"],
  ["dynamodb", "DynamoDB"],
  ["sqs", "SQS"],
  ["s3", "S3 requests"],
  ["stepFunctions", "Step Functions"],
  ["eventBridge", "EventBridge"],
  ["cloudWatch", "CloudWatch"],
  ["keysAndSecrets", "KMS, Secrets"],
  ["controlPlane", "**without drill instances**"],
  ["drillInstances", "drill instances"],
  ["total", "**with drill instances**"],
];

/** One row of the table, as README.md shows it. */
export function tableRow(row: CostRow): string {
  const cells = COLUMNS.map(([key]) => {
    const text = dollars(row[key] as number);
    return key === "controlPlane" || key === "total" ? `**${text}**` : text;
  });
  return `| ${row.sources.toLocaleString("en-US")} | ${cells.join(" | ")} |`;
}

export const README_START = "<!-- cost-table: generated by `npx tsx scripts/cost.ts --readme`; do not edit -->";
export const README_END = "<!-- /cost-table -->";

/** Where the control plane's cost of `sources` sources goes: backups, drills, each scheduled function, the fixed part. */
export function costByPart(
  measured: MeasuredFile,
  prices: PriceFile,
  sources: number,
): { part: string; dollars: number }[] {
  const whole = monthlyCost(measured, prices, sources).controlPlane;
  const without = (change: (copy: MeasuredFile) => void) => {
    const copy = JSON.parse(JSON.stringify(measured)) as MeasuredFile;
    change(copy);
    return whole - monthlyCost(copy, prices, sources).controlPlane;
  };
  const nothing: MeasuredRun = { requests: {}, lambda: {}, queueMessages: 0 };
  const fixed = monthlyCost(measured, prices, 0).controlPlane;
  const parts = [
    { part: "backups", dollars: without((copy) => Object.assign(copy.backup.small, { perBackup: nothing })) },
    {
      part: "drills",
      dollars: without((copy) => Object.assign(copy.drill, { perDrill: nothing, stateTransitions: 0 })),
    },
    ...Object.keys(measured.scheduled).map((name) => ({
      part: `${FUNCTIONS[name as FunctionName]?.entry ?? name} runs`,
      // What the runs add beyond the fixed part they also have with no source.
      dollars:
        without((copy) => delete copy.scheduled[name]) -
        (fixed - monthlyCost({ ...measured, scheduled: omit(measured.scheduled, name) }, prices, 0).controlPlane),
    })),
    { part: "what is there with no source", dollars: fixed },
  ];
  return parts.sort((a, b) => b.dollars - a.dollars);
}

function omit<T>(record: Record<string, T>, key: string): Record<string, T> {
  const { [key]: _, ...rest } = record;
  return rest;
}

/** What each further GiB of a daily backup adds a month per source: S3 PUTs of its multipart parts (measured). */
export function uploadCostPerGiB(measured: MeasuredFile, prices: PriceFile): number {
  const writes = (run: MeasuredRun) => {
    const usage = emptyUsage();
    addRun(usage, run, 1, 0);
    return usage.s3WriteRequests;
  };
  const { small, large } = measured.backup;
  const perMiB = (writes(large.perBackup) - writes(small.perBackup)) / (large.dumpMiB - small.dumpMiB);
  return ((perMiB * 1024 * BACKUPS_PER_SOURCE) / 1000) * prices.s3.perThousandPutCopyPostListRequests;
}

/** The README's table and what it says about the target. */
export function costSection(measured: MeasuredFile, prices: PriceFile): string {
  const rows = TABLE_SOURCES.map((sources) => monthlyCost(measured, prices, sources));
  const target = monthlyCost(measured, prices, TARGET.sources);
  const fixed = monthlyCost(measured, prices, 0);
  const met = target.controlPlane < TARGET.dollars;
  const plan = DEFAULT_DRILL_PLAN.instance;
  return [
    README_START,
    `| sources | ${COLUMNS.map(([, title]) => title).join(" | ")} |`,
    `| ---: | ${COLUMNS.map(() => "---:").join(" | ")} |`,
    ...rows.map(tableRow),
    "",
    `Per month, us-east-1 list prices of ${prices.asOf} (scripts/prices.json, to be checked), requests measured on the local ` +
      `stack on ${measured.measuredAt.slice(0, 10)} (scripts/cost-measured.json). Daily backups of a seed-style set, a drill a ` +
      `month each (${plan.type}, ${plan.diskGiB} GiB gp3, ${DRILL_INSTANCE_MINUTES} minutes: an assumption), ` +
      `${retainedSetsPerSource()} sets kept per source (the default policy after a year). Storage and transfer of the ` +
      `backups themselves are not in it; nor is their upload beyond the seed-style set's few MiB: each GiB a daily ` +
      `backup weighs adds ${dollars(uploadCostPerGiB(measured, prices))} per source a month in S3 PUTs (a part per 8 MiB).`,
    "",
    `Target (#17): under ${dollars(TARGET.dollars)} a month for ${TARGET.sources.toLocaleString("en-US")} sources without ` +
      `drill instances: **${met ? "met" : "not met"}** (${dollars(target.controlPlane)}). ` +
      `${dollars(fixed.controlPlane)} of it is there with no source at all: ${measured.cloudwatch.customMetrics} custom ` +
      `metrics (${dollars(measured.cloudwatch.customMetrics * prices.cloudWatch.perCustomMetricMonth)}), ` +
      `${measured.stack.alarms} alarms (${dollars(measured.stack.alarms * prices.cloudWatch.perStandardAlarmMonth)}), ` +
      `${measured.stack.kmsKeys} KMS keys and ${measured.stack.secrets} secrets ` +
      `(${dollars(measured.stack.kmsKeys * prices.kms.perKeyMonth + measured.stack.secrets * prices.secretsManager.perSecretMonth)}), ` +
      `and Lambda's pollers on ${measured.stack.queuePollers} queues. The largest parts at ` +
      `${TARGET.sources.toLocaleString("en-US")} sources: ` +
      costByPart(measured, prices, TARGET.sources)
        .slice(0, 4)
        .map(({ part, dollars: amount }) => `${part} ${dollars(amount)}`)
        .join(", ") +
      ".",
    README_END,
  ].join("\n");
}

/** README.md with its cost section replaced. */
export function withCostSection(readme: string, section: string): string {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${README_START} … ${README_END} section`);
  return readme.slice(0, start) + section + readme.slice(end + README_END.length);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { measured, prices } = loadInputs();
  const section = costSection(measured, prices);
  console.log(section);
  for (const sources of TABLE_SOURCES) {
    const usage = monthlyUsage(measured, sources);
    console.log(
      `\n${sources} sources, a month:`,
      JSON.stringify(usage, (_, v) => (typeof v === "number" ? Math.round(v) : v)),
    );
  }
  if (process.argv.includes("--readme")) {
    writeFileSync(README_FILE, withCostSection(readFileSync(README_FILE, "utf-8"), section));
    console.log(`\nwrote the table into ${path.relative(process.cwd(), README_FILE)}`);
  }
}
