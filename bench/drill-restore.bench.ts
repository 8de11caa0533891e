import { execFile } from "node:child_process";
import { mkdir, rm, stat } from "node:fs/promises";
import { cpus } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { postgresEnv, postgresTool, runTool, startThrowawayPostgres } from "../cli/drill/postgres";
import { localClients } from "../cli/local/clients";
import { startLocalHandlers } from "../cli/local/handlers";
import { REPOSITORY_ROOT } from "../cli/local/paths";
import { DEFAULT_DRILL_PLAN } from "../shared/drills/plan";
import { type DrillRecord, DrillRecordSchema } from "../shared/drills/record";
import { silentLog } from "../shared/log";
import { startPostgres } from "../test/support/postgres";
import { writeSeedBackup } from "../test/support/seed-backup";
import { type BenchContext, type Benchmark, median, round2 } from "./harness";

const run = promisify(execFile);
const MiB = 1024 * 1024;
/** The bundle `npm run bench` has just built (see restore.bench.ts for why not cli/bin). */
const CLI_BUNDLE = path.join(REPOSITORY_ROOT, "dist", "restorable.mjs");
/**
 * Rows of the seed's table; each row's text is four distinct MD5s in hex, which pg_dump compresses to about
 * half, so the default makes a main.dump of about 200 MiB. BENCH_DRILL_ROWS scales it.
 */
const ROWS = Number(process.env.BENCH_DRILL_ROWS ?? 2_500_000);
const ROUNDS = Number(process.env.BENCH_DRILL_ROUNDS ?? 3);
// Four different MD5s per row: no row repeats another's text, which zlib would find and squeeze away.
const BODY = "md5(g::text) || md5('a' || g) || md5('b' || g) || md5('c' || g)";
const RESTORE_TARGET_RATIO = 1.15;
const DRILL_TIMEOUT_SECONDS = DEFAULT_DRILL_PLAN.timeouts.drillMinutes * 60;

/**
 * A whole local drill of a seed-style set with a main.dump of a few hundred MB, as an operator starts it
 * (`drill run --wait`, the state machine in the emulator, the local stand-in for EC2 running the agent), beside
 * a bare `pg_restore -j <cores>` of the same dump into a fresh throwaway cluster, in the same run; rounds
 * alternate which goes first. The figure is the agent's restore phase (its database created, pg_restore with
 * as many jobs, the restored size read) against the bare pg_restore alone.
 */
export const drillRestore: Benchmark = {
  name: "drill-restore",
  async run(context: BenchContext) {
    process.env.POWERTOOLS_LOG_LEVEL = "SILENT";
    process.env.POWERTOOLS_METRICS_DISABLED = "true";
    const postgres = await startPostgres();
    const env = deploymentEnv(context);
    const handlers = startLocalHandlers({
      deployment: context.deployment,
      region: "us-east-1",
      clients: localClients({ endpoint: context.endpoint, region: "us-east-1" }),
      log: silentLog,
      run: false,
    });
    try {
      context.log(`writing ${ROWS} rows and dumping them with pg_dump -Fc ...`);
      const { directory } = await writeSeedBackup(postgres, { rows: ROWS, body: BODY });
      const dump = path.join(directory, "main.dump");
      const dumpBytes = (await stat(dump)).size;
      const pushed = await run(process.execPath, [CLI_BUNDLE, "push", directory, "--source", "bench-drill", "--json"], {
        env: { ...process.env, ...env },
      });
      const setId = (JSON.parse(pushed.stdout) as { setId: string }).setId;
      await handlers.pump.drain();
      handlers.drillPump.start();
      handlers.hypervisor.start();

      const runDrill = async () => {
        const started = performance.now();
        const { stdout } = await run(
          process.execPath,
          [CLI_BUNDLE, "drill", "run", "--source", "bench-drill", "--backup", setId, "--wait", "--json"],
          { env: { ...process.env, ...env }, maxBuffer: 16 * MiB },
        );
        const wall = (performance.now() - started) / 1000;
        const record: DrillRecord = DrillRecordSchema.parse(JSON.parse(stdout));
        if (record.phases.restore === null) {
          throw new Error(`the drill ${record.id} ended ${record.status} without restoring: ${record.reason ?? ""}`);
        }
        return { wall, record, restore: record.phases.restore };
      };
      const runBare = () => barePgRestore(dump, path.join(context.scratch, "bare"));

      const drills: Awaited<ReturnType<typeof runDrill>>[] = [];
      const bares: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate which goes first, so that drift (the page cache, the emulator) hits both alike.
        if (round % 2 === 0) {
          bares.push(await runBare());
          drills.push(await runDrill());
        } else {
          drills.push(await runDrill());
          bares.push(await runBare());
        }
        const drill = drills[drills.length - 1] as (typeof drills)[number];
        context.log(
          `round ${round + 1}/${ROUNDS}: bare pg_restore ${bares[bares.length - 1]?.toFixed(2)} s; drill ${drill.record.status}, ` +
            `restore phase ${drill.restore.toFixed(2)} s, phases ${JSON.stringify(drill.record.phases)}, wall ${drill.wall.toFixed(2)} s`,
        );
      }
      const restore = median(drills.map((drill) => drill.restore));
      const bare = median(bares);
      const total = median(drills.map((drill) => drill.record.phases.total ?? drill.wall));
      const size = `${round2(dumpBytes / MiB)} MiB main.dump`;
      const jobs = `pg_restore -j ${cpus().length}`;
      return [
        {
          name: `drill restore phase, ${size}`,
          value: round2(restore),
          unit: "s",
          reference: { name: `bare ${jobs} of the same dump into a fresh cluster`, value: round2(bare), unit: "s" },
          ratio: round2(restore / bare),
          target: `ratio ≤ ${RESTORE_TARGET_RATIO}`,
          met: restore / bare <= RESTORE_TARGET_RATIO,
        },
        {
          name: `whole local drill (launch to report: the measured RTO), ${size}`,
          value: round2(total),
          unit: "s",
          reference: { name: `bare ${jobs} of the same dump`, value: round2(bare), unit: "s" },
          ratio: round2(total / bare),
          // A drill that outlives its plan's timeout is called off: the default plan's is the bound.
          target: `≤ ${DRILL_TIMEOUT_SECONDS} s (the default plan's drill timeout)`,
          met: total <= DRILL_TIMEOUT_SECONDS,
        },
      ];
    } finally {
      await handlers.stop();
      await postgres.stop();
    }
  },
};

/** Seconds of `pg_restore -j <cores>` alone, into a fresh database of a fresh throwaway cluster (as the agent's). */
async function barePgRestore(dump: string, parent: string): Promise<number> {
  await mkdir(parent, { recursive: true });
  const cluster = await startThrowawayPostgres(parent);
  try {
    const env = postgresEnv();
    const psql = await runTool(
      postgresTool("psql"),
      ["-d", cluster.conninfo("postgres"), "-c", "CREATE DATABASE bare"],
      {
        env,
      },
    );
    if (psql.code !== 0) throw new Error(`CREATE DATABASE failed: ${psql.output}`);
    const started = performance.now();
    const restored = await runTool(
      postgresTool("pg_restore"),
      [
        "-j",
        String(cpus().length),
        "--exit-on-error",
        "--no-owner",
        "--no-privileges",
        "-d",
        cluster.conninfo("bare"),
        dump,
      ],
      { env },
    );
    const seconds = (performance.now() - started) / 1000;
    if (restored.code !== 0) throw new Error(`pg_restore failed: ${restored.output}`);
    return seconds;
  } finally {
    await cluster.stop();
    await rm(parent, { recursive: true, force: true });
  }
}

function deploymentEnv(context: BenchContext): NodeJS.ProcessEnv {
  const { deployment } = context;
  return {
    RESTORABLE_BUCKET: deployment.bucket,
    RESTORABLE_TABLE: deployment.table,
    RESTORABLE_ENDPOINT: context.endpoint,
    RESTORABLE_MASTER_KEY_SECRET: deployment.masterKeySecret,
    RESTORABLE_QUEUE_URL: deployment.queueUrl,
    RESTORABLE_DEAD_LETTER_QUEUE_URL: deployment.deadLetterQueueUrl,
    RESTORABLE_DRILL_STATE_MACHINE: deployment.drillStateMachineArn,
  };
}
