import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import * as path from "node:path";
import { DeleteObjectsCommand, ListObjectVersionsCommand, S3Client } from "@aws-sdk/client-s3";
import {
  type BenchContext,
  type Benchmark,
  bundle,
  CLI_BIN,
  isolateEmulator,
  type Measured,
  measure,
  median,
  round2,
} from "./harness";

const SIZE = 1024 * 1024 * 1024;
// The emulator is the bottleneck and shares the machine's cores, so single rounds vary by ±15%.
const ROUNDS = 5;

/**
 * `restorable push` (the real CLI, as a host runs it) of a directory holding one 1 GiB file, beside
 * a plain lib-storage upload of the same bytes without hashing, with the emulator on a core of its own.
 */
export const pushThroughput: Benchmark = {
  name: "push-throughput",
  async run(context: BenchContext) {
    const directory = path.join(context.scratch, "20250101_020000");
    const file = path.join(directory, "big.bin");
    context.log("writing a 1 GiB file ...");
    await writeRandomFile(file, SIZE);
    const plainUpload = await bundle("bench/plain-upload.ts", path.join(context.scratch, "plain-upload.mjs"));
    const deployment = {
      RESTORABLE_BUCKET: context.bucket,
      RESTORABLE_TABLE: context.table,
      RESTORABLE_ENDPOINT: context.endpoint,
    };

    const pinned = await isolateEmulator(context.endpoint, context.log);
    const runPlain = async (round: number) => {
      const measured = await measure([
        ...pinned,
        process.execPath,
        plainUpload,
        file,
        context.bucket,
        `plain/${round}`,
      ]);
      await emptyBucket(context.bucket);
      return measured;
    };
    const runPush = async (round: number) => {
      const measured = await measure(
        [...pinned, process.execPath, CLI_BIN, "push", directory, "--source", `bench${round}`, "--json"],
        deployment,
      );
      await emptyBucket(context.bucket);
      return measured;
    };

    const pushes: Measured[] = [];
    const plains: Measured[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      context.log(`round ${round + 1}/${ROUNDS} ...`);
      // Alternate which goes first, so that drift in the emulator hits both alike.
      let plain: Measured;
      let push: Measured;
      if (round % 2 === 0) {
        plain = await runPlain(round);
        push = await runPush(round);
      } else {
        push = await runPush(round);
        plain = await runPlain(round);
      }
      plains.push(plain);
      pushes.push(push);
      context.log(
        `round ${round + 1}/${ROUNDS}: plain ${plain.seconds.toFixed(2)} s (CPU ${plain.cpuSeconds.toFixed(2)} s), push ${push.seconds.toFixed(2)} s (CPU ${push.cpuSeconds.toFixed(2)} s)`,
      );
    }
    const throughput = (m: Measured) => SIZE / m.seconds / (1024 * 1024);
    const push = median(pushes.map(throughput));
    const plain = median(plains.map(throughput));
    const pushRss = Math.max(...pushes.map((m) => m.maxRssBytes)) / (1024 * 1024);
    const plainRss = Math.max(...plains.map((m) => m.maxRssBytes)) / (1024 * 1024);
    return [
      {
        name: "push throughput, 1 GiB file",
        value: round2(push),
        unit: "MiB/s",
        reference: {
          name: "plain lib-storage upload of the same bytes, no hashing",
          value: round2(plain),
          unit: "MiB/s",
        },
        ratio: round2(push / plain),
        target: "ratio ≥ 0.9",
        met: push / plain >= 0.9,
      },
      {
        name: "push peak RSS, 1 GiB file",
        value: round2(pushRss),
        unit: "MiB",
        reference: { name: "peak RSS of the plain lib-storage upload", value: round2(plainRss), unit: "MiB" },
        ratio: round2(pushRss / plainRss),
        target: "< 200 MiB",
        met: pushRss < 200,
      },
    ];
  },
};

async function writeRandomFile(file: string, size: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const out = createWriteStream(file);
  const block = randomBytes(8 * 1024 * 1024);
  for (let written = 0; written < size; written += block.length) {
    // Vary each block so that nothing downstream can deduplicate it.
    block.writeUInt32LE(written / block.length, 0);
    if (!out.write(Buffer.from(block))) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));
}

/** The emulator keeps objects in memory; drop every version between rounds. */
async function emptyBucket(bucket: string): Promise<void> {
  const s3 = new S3Client({});
  const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  const objects = [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])].map((v) => ({
    Key: v.Key as string,
    VersionId: v.VersionId as string,
  }));
  if (objects.length > 0) await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }));
}
