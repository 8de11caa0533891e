import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { type Command, Option } from "commander";
import type { AgentReport } from "../../../shared/drills/record";
import { printJson } from "../../output/format";

interface AgentOptions {
  configUrl: string;
  configKey?: string;
  workDir?: string;
  shutdown?: boolean;
  json?: boolean;
}

/**
 * `restorable drill agent`: what a drill instance runs at boot (and the local stack's hypervisor runs in a
 * child process). Hidden: operators start drills with `drill run`, never the agent.
 */
export function registerDrillAgent(drill: Command): void {
  drill
    .command("agent", { hidden: true })
    .description("Run one drill on this machine from its config, and upload the report (what a drill instance runs)")
    .requiredOption("--config-url <url>", "presigned URL of the drill's config")
    .addOption(
      new Option("--config-key <key>", "the key that opens the sealed config (from the instance's user data)").env(
        "RESTORABLE_DRILL_CONFIG_KEY",
      ),
    )
    .option(
      "--work-dir <dir>",
      "directory to work in (created if missing; emptied at the end; default: a temporary one)",
    )
    .option("--shutdown", "shut this machine down at the end, whatever happened (a drill instance terminates then)")
    .option("--json", "print the report as JSON")
    .action(agent);
}

async function agent(options: AgentOptions): Promise<void> {
  const { runDrillAgent } = await import("../../drill/agent");
  const temporary = options.workDir === undefined ? await mkdtemp(path.join(tmpdir(), "restorable-drill-")) : undefined;
  const controller = new AbortController();
  const stop = () => controller.abort(new Error("the agent was stopped"));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  try {
    const report = await runDrillAgent({
      configUrl: options.configUrl,
      ...(options.configKey ? { configKey: options.configKey } : {}),
      workDir: options.workDir ?? (temporary as string),
      log: (line) => process.stderr.write(`drill agent: ${line}\n`),
      signal: controller.signal,
    });
    if (options.json) printJson(report);
    else printSummary(report);
    if (report.error || report.checks.some((check) => !check.passed)) process.exitCode = 1;
  } finally {
    process.removeListener("SIGTERM", stop);
    process.removeListener("SIGINT", stop);
    if (temporary) await rm(temporary, { recursive: true, force: true });
    if (options.shutdown) await shutdown();
  }
}

function printSummary(report: AgentReport): void {
  const failed = report.checks.filter((check) => !check.passed);
  const outcome = report.error ? `ERROR (${report.error})` : failed.length ? "FAILED" : "PASSED";
  console.log(`drill ${report.drillId}: ${outcome}`);
  for (const check of report.checks) {
    console.log(`  ${check.passed ? "ok  " : "FAIL"}  ${check.name}  ${check.detail.split("\n")[0]}`);
  }
  const phases = Object.entries(report.phases)
    .filter(([, seconds]) => seconds !== null)
    .map(([phase, seconds]) => `${phase} ${seconds}s`);
  if (phases.length) console.log(`  phases: ${phases.join(", ")}`);
  console.log(`  bytes: ${report.bytes.downloaded} downloaded, ${report.bytes.restored} restored`);
}

/** On an instance whose shutdown behaviour is terminate, this ends it; the boot script's `shutdown -h +N` backs it up. */
function shutdown(): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn("shutdown", ["-h", "now"], { stdio: "inherit" });
    child.on("error", (error) => {
      process.stderr.write(`restorable: could not shut down: ${error.message}\n`);
      resolve();
    });
    child.on("close", () => resolve());
  });
}
