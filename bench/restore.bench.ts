import { createHash, randomBytes } from "node:crypto";
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
 * The one file a host installs (README "Installing on a backup host"), which `npm run bench` has just built and
 * which a host restores with on its worst day; run after a first, unmeasured restore has written its code cache,
 * as every run after a host's first starts from it.
 */
const HOST_CLI = path.join(REPOSITORY_ROOT, "dist", "restorable-host.mjs");
/** 1 GiB by default; BENCH_RESTORE_BYTES scales it (a whole number of MiB). */
const SIZE = Number(process.env.BENCH_RESTORE_BYTES ?? 1024 * MiB);
const ROUNDS = Number(process.env.BENCH_RESTORE_ROUNDS ?? 7);
const RSS_TARGET_MIB = 200;
const THROUGHPUT_TARGET_RATIO = 0.9;

/**
 * `restorable restore` (the real CLI, as a host runs it) of a set holding one SIZE-byte file: pinned version,
 * SHA-256 verified while streaming, written under a temporary name, flushed to disk as it downloads, fsynced
 * and renamed. Beside it, in the same run, a plain GetObject of the same version written through the same
 * flushing writer: the reference the target applies to, since both then end with the bytes on disk and differ
 * only by what restore adds. Also beside it, a plain GetObject left in the page cache (its bytes not yet on
 * disk when it ends), which shows what the flush costs on this disk. Rounds rotate which goes first. The
 * emulator is pinned to a core so that its scheduling stays put; the measured processes may use every core, as
 * on a host restoring from S3. Peak RSS is the restoring process's own (getrusage of the child).
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
    await isolateEmulator(context.endpoint, context.log);
    const target = path.join(context.scratch, "restored");
    const runRestore = async () => {
      const measured = await measure([process.execPath, HOST_CLI, "restore", entry.id, "--to", target, "--json"], {
        ...deployment,
        RESTORABLE_CACHE_DIR: path.join(context.scratch, "code-cache"),
      });
      await rm(target, { recursive: true, force: true });
      return measured;
    };
    await runRestore();
    const plain = (flush: boolean) => async () => {
      const file = path.join(context.scratch, "plain.bin");
      const measured = await measure([
        process.execPath,
        plainDownload,
        context.bucket,
        component.key,
        component.versionId as string,
        file,
        ...(flush ? ["--flush"] : []),
      ]);
      await rm(file, { force: true });
      return measured;
    };

    const runs = { restore: runRestore, flushed: plain(true), cached: plain(false) };
    const measured: Record<keyof typeof runs, Measured[]> = { restore: [], flushed: [], cached: [] };
    const order = Object.keys(runs) as (keyof typeof runs)[];
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate which goes first, so that drift in the emulator or the disk hits all alike.
      const rotated = [...order.slice(round % order.length), ...order.slice(0, round % order.length)];
      for (const name of rotated) measured[name].push(await runs[name]());
      const describe = (name: keyof typeof runs) => {
        const m = measured[name][round] as Measured;
        return `${name} ${m.seconds.toFixed(2)} s (CPU ${m.cpuSeconds.toFixed(2)} s, ${mib(m.maxRssBytes)} MiB)`;
      };
      context.log(`round ${round + 1}/${ROUNDS}: ${order.map(describe).join(", ")}`);
    }
    const throughput = (runs: Measured[]) => median(runs.map((m) => SIZE / m.seconds / MiB));
    const restore = throughput(measured.restore);
    const flushed = throughput(measured.flushed);
    const cached = throughput(measured.cached);
    const peakRss = (runs: Measured[]) => Math.max(...runs.map((m) => m.maxRssBytes)) / MiB;
    const restoreRss = peakRss(measured.restore);
    const flushedRss = peakRss(measured.flushed);
    const size = describeSize(SIZE);
    const hashSeconds = sha256CpuSeconds(SIZE);
    const allowedSeconds = (SIZE / MiB / flushed) * (1 / THROUGHPUT_TARGET_RATIO - 1);
    return [
      {
        name: `restore throughput, ${size} set`,
        value: round2(restore),
        unit: "MiB/s",
        reference: {
          name: "plain GetObject of the same version to a file, flushed to disk by the same writer, no hashing",
          value: round2(flushed),
          unit: "MiB/s",
        },
        ratio: round2(restore / flushed),
        target: `ratio ≥ ${THROUGHPUT_TARGET_RATIO}`,
        met: restore / flushed >= THROUGHPUT_TARGET_RATIO,
        limitedBy:
          `the SHA-256 restore must compute: ${round2(hashSeconds)} s of CPU for these ${size} on this machine ` +
          `(measured here, OpenSSL with the SHA extensions), on the thread that receives the bytes, where the ` +
          `target allows restore ${round2(allowedSeconds)} s more than the reference in all`,
        beside: [
          {
            name: "plain GetObject of the same version to a file left in the page cache (not yet on disk when it ends)",
            value: round2(cached),
            unit: "MiB/s",
            ratio: round2(restore / cached),
          },
        ],
      },
      {
        name: `restore peak RSS, ${size} set`,
        value: round2(restoreRss),
        unit: "MiB",
        reference: {
          name: "peak RSS of the plain GetObject download through the same writer",
          value: round2(flushedRss),
          unit: "MiB",
        },
        ratio: round2(restoreRss / flushedRss),
        target: `< ${RSS_TARGET_MIB} MiB`,
        met: restoreRss < RSS_TARGET_MIB,
      },
    ];
  },
};

/** CPU seconds this process spends hashing `size` bytes with SHA-256, in the 64 KiB pieces a download arrives in. */
function sha256CpuSeconds(size: number): number {
  const piece = randomBytes(64 * 1024);
  const hash = createHash("sha256");
  const before = process.cpuUsage();
  for (let hashed = 0; hashed < size; hashed += piece.length) hash.update(piece);
  hash.digest();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1e6;
}

/** Pushes a directory holding one SIZE-byte random file through the CLI and indexes it with the real indexer. */
async function pushedSet(context: BenchContext) {
  const directory = path.join(context.scratch, "20250101_020000");
  context.log(`writing and pushing a ${describeSize(SIZE)} file ...`);
  await writeRandomFile(path.join(directory, "big.bin"), SIZE);
  const pushed = await measure([process.execPath, HOST_CLI, "push", directory, "--source", "bench-restore", "--json"], {
    RESTORABLE_BUCKET: context.bucket,
    RESTORABLE_TABLE: context.table,
    RESTORABLE_ENDPOINT: context.endpoint,
  });
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
