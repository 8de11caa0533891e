import { randomBytes } from "node:crypto";
import type { Command } from "commander";
import type { DrillRequest } from "../../../shared/drills/prepare";
import { makeDrillId } from "../../../shared/drills/record";
import { ConfigurationError } from "../../../shared/errors";
import { sfnClient } from "../../aws";
import { printDrill } from "../../output/drills";
import { printJson } from "../../output/format";
import { type Services, servicesFor } from "../../services";
import { watchDrill } from "./watch";

interface RunOptions {
  source: string;
  backup?: string;
  wait?: boolean;
  json?: boolean;
}

export function registerDrillRun(drill: Command): void {
  drill
    .command("run")
    .description("Start a restore drill of a source now (the plan's backup selection, or --backup)")
    .requiredOption("--source <name>", "the source")
    .option("--backup <id>", "drill this backup (any short id form) instead of the plan's choice")
    .option("--wait", "wait for the result, showing each phase; exit 1 unless it PASSED")
    .option("--json", "print JSON for scripts")
    .action(run);
}

async function run(options: RunOptions, command: Command): Promise<void> {
  const services = await servicesFor(command);
  const request: DrillRequest = {
    drillId: makeDrillId(new Date(), randomBytes(4).toString("hex")),
    source: options.source,
    backupId: options.backup ?? null,
    trigger: "manual",
  };
  await startDrill(services, request, options, `Started drill ${request.drillId}`);
}

/**
 * Starts the drill state machine with `request` (a drill, or a prune job), then either says so or, with
 * `--wait`, follows it to its result and exits 1 unless it PASSED.
 */
export async function startDrill(
  { deployment, catalog }: Services,
  request: DrillRequest,
  options: { wait?: boolean; json?: boolean },
  started: string,
): Promise<void> {
  if (!deployment.drillStateMachineArn) {
    throw new ConfigurationError("no-drills", "this deployment has no drill state machine: deploy the current stack");
  }
  const { StartExecutionCommand } = await import("../../sdk/sfn");
  await (await sfnClient()).send(
    new StartExecutionCommand({
      stateMachineArn: deployment.drillStateMachineArn,
      name: request.drillId,
      input: JSON.stringify({ request }),
    }),
  );
  if (!options.wait) {
    if (options.json) return printJson({ drillId: request.drillId, started: true });
    return console.log(`${started}: restorable drill show ${request.drillId}`);
  }
  const drill = await watchDrill(catalog.drills, request.drillId, !options.json && process.stderr.isTTY === true);
  if (options.json) printJson(drill);
  else printDrill(drill);
  if (drill.status !== "PASSED") process.exitCode = 1;
}
