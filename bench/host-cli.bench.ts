import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import * as path from "node:path";
import { REPOSITORY_ROOT } from "../cli/local/paths";
import { resticBinary } from "../test/support/tools";
import { type BenchContext, type Benchmark, type BenchResult, type Measured, measure, median, round2 } from "./harness";

const RUNS = Number(process.env.BENCH_HOST_CLI_RUNS ?? 21);
const MAX_HELP_MS = 150;
/** What `npm run build` (cli/build.ts) makes for backup hosts. */
const HOST_BUNDLE = path.join(REPOSITORY_ROOT, "dist", "restorable-host.mjs");

/**
 * `restorable --help` from the one file a backup host installs (dist/restorable-host.mjs, built by
 * `npm run build`), beside `restic --help` on the same machine: the median of RUNS runs each, alternating,
 * the file's code cache in a directory of the benchmark's own (written by the first run, as on a new host).
 * The same file with the code cache turned off shows what the cache is worth.
 */
export const hostCli: Benchmark = {
  name: "host-cli",
  async run(context: BenchContext): Promise<BenchResult[]> {
    if (!existsSync(HOST_BUNDLE)) throw new Error(`${HOST_BUNDLE} is missing: npm run build`);
    const restic = resticBinary();
    if (!restic) throw new Error("restic ≥ 0.16 is needed (npm test installs it into .tools/bin)");
    const cache = { RESTORABLE_CACHE_DIR: path.join(context.scratch, "cache") };
    const help = (env: NodeJS.ProcessEnv) => measure([process.execPath, HOST_BUNDLE, "--help"], env);
    const first = await help(cache);
    context.log(
      `${path.relative(process.cwd(), HOST_BUNDLE)}: ${((await stat(HOST_BUNDLE)).size / 2 ** 20).toFixed(2)} MiB; ` +
        `first run (writes the code cache) ${ms(first)} ms`,
    );
    const bare: number[] = [];
    const cached: number[] = [];
    const uncached: number[] = [];
    const resticHelp: number[] = [];
    for (let round = 0; round < RUNS; round++) {
      // Alternate which goes first, so that drift on the machine hits all alike.
      const steps: [number[], () => Promise<Measured>][] = [
        [cached, () => help(cache)],
        [resticHelp, () => measure([restic, "--help"])],
        [uncached, () => help({ RESTORABLE_COMPILE_CACHE: "0" })],
        [bare, () => measure([process.execPath, "-e", ""])],
      ];
      for (const [into, step] of round % 2 === 0 ? steps : steps.reverse()) into.push(ms(await step()));
    }
    const reference = {
      name: "restic --help (same machine, same runs)",
      value: round2(median(resticHelp)),
      unit: "ms",
    };
    context.log(
      `medians of ${RUNS}: --help ${round2(median(cached))} ms, without the code cache ${round2(median(uncached))} ms, ` +
        `restic --help ${reference.value} ms, node -e "" ${round2(median(bare))} ms (Node's own start)`,
    );
    const figure = (name: string, values: number[]): BenchResult => {
      const value = round2(median(values));
      return {
        name,
        value,
        unit: "ms",
        reference,
        ratio: round2(value / reference.value),
        target: `≤ ${MAX_HELP_MS} ms (median of ${RUNS})`,
        met: value <= MAX_HELP_MS,
      };
    };
    return [
      figure("host CLI start: node dist/restorable-host.mjs --help", cached),
      figure("host CLI start without its code cache (RESTORABLE_COMPILE_CACHE=0)", uncached),
    ];
  },
};

const ms = (measured: Measured) => round2(measured.seconds * 1000);
