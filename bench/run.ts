/** `npm run bench`: every benchmark against a fresh emulator; results to bench/results.json. */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { startEmulator } from "../cli/local/moto";
import { REPOSITORY_ROOT } from "../cli/local/paths";
import { provision, resourceNames } from "../cli/local/provision";
import { drillRestore } from "./drill-restore.bench";
import type { Benchmark, BenchResult } from "./harness";
import { hostCli } from "./host-cli.bench";
import { lambdaBundles } from "./lambda-bundles.bench";
import { pushThroughput } from "./push-throughput.bench";
import { resticIndexing } from "./restic-indexing.bench";
import { restoreThroughput } from "./restore.bench";
import { retentionPlan } from "./retention-plan.bench";

const BENCHMARKS: Benchmark[] = [
  pushThroughput,
  restoreThroughput,
  drillRestore,
  resticIndexing,
  retentionPlan,
  lambdaBundles,
  hostCli,
];

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
process.env.AWS_REGION ??= "us-east-1";
process.env.AWS_ACCESS_KEY_ID ??= "restorable-bench";
process.env.AWS_SECRET_ACCESS_KEY ??= "restorable-bench";

const only = process.argv.slice(2);
// Measure the bundle, as hosts run it.
await import("../cli/build");
const emulator = await startEmulator({ log: console.log });
process.env.AWS_ENDPOINT_URL = emulator.endpoint;
/** A figure as results.json keeps it: with the benchmark that measured it. */
type Recorded = BenchResult & { benchmark?: string };
const results: Recorded[] = [];
try {
  for (const benchmark of BENCHMARKS) {
    if (only.length > 0 && !only.includes(benchmark.name)) continue;
    const deployment = await provision(resourceNames(`bench-${benchmark.name}`), "us-east-1");
    const scratch = await mkdtemp(path.join(tmpdir(), `restorable-bench-${benchmark.name}-`));
    try {
      console.log(`\n${benchmark.name}`);
      const measured = await benchmark.run({
        endpoint: emulator.endpoint,
        deployment,
        bucket: deployment.bucket,
        table: deployment.table,
        queueUrl: deployment.queueUrl as string,
        scratch,
        log: (line) => console.log(`  ${line}`),
      });
      for (const result of measured) {
        const reference = result.reference
          ? ` (reference: ${result.reference.value} ${result.reference.unit}, ${result.reference.name}; ratio ${result.ratio})`
          : "";
        console.log(
          `  ${result.met ? "✓" : "✗"} ${result.name}: ${result.value} ${result.unit}${reference}; target ${result.target}`,
        );
        if (!result.met && result.limitedBy) console.log(`    limited by ${result.limitedBy}`);
        for (const other of result.beside ?? []) {
          console.log(`    beside: ${other.value} ${other.unit}, ${other.name}; ratio ${other.ratio}`);
        }
      }
      results.push(...measured.map((result) => ({ benchmark: benchmark.name, ...result })));
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
} finally {
  await emulator.stop();
}
const file = path.join(REPOSITORY_ROOT, "bench", "results.json");
// Running some benchmarks keeps the others' last figures; a benchmark that ran replaces all of its own.
const ran = new Set(results.map((result) => result.benchmark));
const kept = existsSync(file)
  ? ((JSON.parse(await readFile(file, "utf-8")) as { results: Recorded[] }).results ?? []).filter(
      (r) => r.benchmark !== undefined && !ran.has(r.benchmark),
    )
  : [];
results.unshift(...kept);
await writeFile(
  file,
  `${JSON.stringify({ measuredAt: new Date().toISOString(), node: process.version, cpus: (await import("node:os")).cpus().length, results }, null, 2)}\n`,
);
console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
