import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import * as path from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { localClients } from "../cli/local/clients";
import { startLocalHandlers } from "../cli/local/handlers";
import { REPOSITORY_ROOT } from "../cli/local/paths";
import { openCatalog } from "../shared/catalog/dynamo/open";
import type { DumpSetEntry } from "../shared/catalog/entry";
import { silentLog } from "../shared/log";
import {
  type BenchContext,
  type Benchmark,
  bundle,
  isolateEmulator,
  type Measured,
  measure,
  median,
  round2,
} from "./harness";

const MiB = 1024 * 1024;
/**
 * The bundle `npm run bench` has just built, run directly: cli/bin/restorable.mjs would fall back to the sources
 * (through tsx) as soon as any source file is newer than the bundle, and measure tsx instead.
 */
const CLI_BUNDLE = path.join(REPOSITORY_ROOT, "dist", "restorable.mjs");
/** 1 GiB by default; BENCH_RESTORE_BYTES scales it (a whole number of MiB). */
const SIZE = Number(process.env.BENCH_RESTORE_BYTES ?? 1024 * MiB);
const ROUNDS = Number(process.env.BENCH_RESTORE_ROUNDS ?? 5);
const RSS_TARGET_MIB = 200;
const THROUGHPUT_TARGET_RATIO = 0.9;

/**
 * `restorable restore` (the real CLI, as an operator runs it) of a set holding one SIZE-byte file: pinned
 * version, SHA-256 verified while streaming, written under a temporary name, flushed and renamed. Beside it, a
 * plain GetObject of the same version streamed to a file, in the same run; rounds alternate which goes first,
 * with the emulator on a core of its own. Peak RSS is the restoring process's own (getrusage of the child).
 */
export const restoreThroughput: Benchmark = {
  name: "restore",
  async run(context: BenchContext) {
    const { entry, component } = await pushedSet(context);
    const plainDownload = await bundle("bench/plain-download.ts", path.join(context.scratch, "plain-download.mjs"));
    const deployment = {
      RESTORABLE_BUCKET: context.bucket,
      RESTORABLE_TABLE: context.table,
      RESTORABLE_ENDPOINT: context.endpoint,
    };
    const pinned = await isolateEmulator(context.endpoint, context.log);
    const target = path.join(context.scratch, "restored");
    const runRestore = async () => {
      const measured = await measure(
        [...pinned, process.execPath, CLI_BUNDLE, "restore", entry.id, "--to", target, "--json"],
        deployment,
      );
      await rm(target, { recursive: true, force: true });
      return measured;
    };
    const runPlain = async () => {
      const file = path.join(context.scratch, "plain.bin");
      const measured = await measure([
        ...pinned,
        process.execPath,
        plainDownload,
        context.bucket,
        component.key,
        component.versionId as string,
        file,
      ]);
      await rm(file, { force: true });
      return measured;
    };

    const restores: Measured[] = [];
    const plains: Measured[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first, so that drift in the emulator hits both alike.
      const [first, second] = round % 2 === 0 ? [runPlain, runRestore] : [runRestore, runPlain];
      const a = await first();
      const b = await second();
      const [plain, restore] = round % 2 === 0 ? [a, b] : [b, a];
      plains.push(plain);
      restores.push(restore);
      context.log(
        `round ${round + 1}/${ROUNDS}: plain ${plain.seconds.toFixed(2)} s (CPU ${plain.cpuSeconds.toFixed(2)} s, ` +
          `${mib(plain.maxRssBytes)} MiB), restore ${restore.seconds.toFixed(2)} s (CPU ${restore.cpuSeconds.toFixed(2)} s, ` +
          `${mib(restore.maxRssBytes)} MiB)`,
      );
    }
    const throughput = (m: Measured) => SIZE / m.seconds / MiB;
    const restore = median(restores.map(throughput));
    const plain = median(plains.map(throughput));
    const restoreRss = Math.max(...restores.map((m) => m.maxRssBytes)) / MiB;
    const plainRss = Math.max(...plains.map((m) => m.maxRssBytes)) / MiB;
    const size = describeSize(SIZE);
    return [
      {
        name: `restore throughput, ${size} set`,
        value: round2(restore),
        unit: "MiB/s",
        reference: {
          name: "plain GetObject of the same version to a file, no hashing",
          value: round2(plain),
          unit: "MiB/s",
        },
        ratio: round2(restore / plain),
        target: `ratio ≥ ${THROUGHPUT_TARGET_RATIO}`,
        met: restore / plain >= THROUGHPUT_TARGET_RATIO,
      },
      {
        name: `restore peak RSS, ${size} set`,
        value: round2(restoreRss),
        unit: "MiB",
        reference: { name: "peak RSS of the plain GetObject download", value: round2(plainRss), unit: "MiB" },
        ratio: round2(restoreRss / plainRss),
        target: `< ${RSS_TARGET_MIB} MiB`,
        met: restoreRss < RSS_TARGET_MIB,
      },
    ];
  },
};

/** Pushes a directory holding one SIZE-byte random file through the CLI and indexes it with the real indexer. */
async function pushedSet(context: BenchContext) {
  const directory = path.join(context.scratch, "20250101_020000");
  context.log(`writing and pushing a ${describeSize(SIZE)} file ...`);
  await writeRandomFile(path.join(directory, "big.bin"), SIZE);
  const pushed = await measure(
    [process.execPath, CLI_BUNDLE, "push", directory, "--source", "bench-restore", "--json"],
    {
      RESTORABLE_BUCKET: context.bucket,
      RESTORABLE_TABLE: context.table,
      RESTORABLE_ENDPOINT: context.endpoint,
    },
  );
  await rm(directory, { recursive: true, force: true });
  process.env.POWERTOOLS_LOG_LEVEL = "SILENT";
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  const { pump } = startLocalHandlers({
    deployment: context.deployment,
    region: "us-east-1",
    clients: localClients({ endpoint: context.endpoint, region: "us-east-1" }),
    log: silentLog,
    run: false,
  });
  await pump.drain();
  const setId = (JSON.parse(pushed.stdout) as { setId: string }).setId;
  const entry = (await openCatalog(new DynamoDBClient({}), context.table).backups.getBackup(setId)) as DumpSetEntry;
  if (entry?.status !== "COMPLETE") throw new Error(`set ${setId} is ${entry?.status ?? "not in the catalog"}`);
  const component = entry.components[0];
  if (!component?.versionId) throw new Error(`set ${setId} has no pinned component`);
  return { entry, component };
}

async function writeRandomFile(file: string, size: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const out = createWriteStream(file);
  const block = randomBytes(8 * MiB);
  for (let written = 0; written < size; written += block.length) {
    // Vary each block so that nothing downstream can deduplicate it.
    block.writeUInt32LE(written / block.length, 0);
    const chunk = Buffer.from(block.subarray(0, Math.min(block.length, size - written)));
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));
}

const mib = (bytes: number) => (bytes / MiB).toFixed(0);

function describeSize(bytes: number): string {
  return bytes % (1024 * MiB) === 0 ? `${bytes / (1024 * MiB)} GiB` : `${round2(bytes / MiB)} MiB`;
}
