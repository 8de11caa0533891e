import { randomBytes } from "node:crypto";
import type { Command } from "commander";
import type { DrillRequest } from "../../../shared/drills/prepare";
import { makeDrillId, pruneSource } from "../../../shared/drills/record";
import { ConfigurationError } from "../../../shared/errors";
import { sfnClient } from "../../aws";
import { printDrill } from "../../output/drills";
import { printJson } from "../../output/format";
import { servicesFor } from "../../services";
import { watchDrill } from "../drill/watch";

interface PruneOptions {
  wait?: boolean;
  json?: boolean;
}

export function registerResticPrune(restic: Command): void {
  restic
    .command("prune")
    .description(
      "Run restic prune on a repository now, on a throwaway instance with the prune role (the drill dispatcher " +
        "starts one by itself after retention forgets snapshots)",
    )
    .argument("<name>", "repository name")
    .option("--wait", "wait for the result; exit 1 unless prune and the check after it passed")
    .option("--json", "print JSON for scripts")
    .action(prune);
}

async function prune(name: string, options: PruneOptions, command: Command): Promise<void> {
  const { deployment, catalog } = await servicesFor(command);
  if (!deployment.drillStateMachineArn) {
    throw new ConfigurationError("no-drills", "this deployment has no drill state machine: deploy the current stack");
  }
  const now = new Date();
  if (!(await catalog.repositories.claimPrune(name, now, { force: true }).catch(() => false))) {
    throw new ConfigurationError(
      "unknown-repository",
      `no restic repository named ${name}: add it with restorable restic add-repo ${name}`,
    );
  }
  const request: DrillRequest = {
    drillId: makeDrillId(now, randomBytes(4).toString("hex")),
    source: pruneSource(name),
    backupId: null,
    trigger: "manual",
    job: "prune",
    repository: name,
  };
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
    return console.log(
      `Started restic prune of ${name} as ${request.drillId}: restorable drill show ${request.drillId}`,
    );
  }
  const job = await watchDrill(catalog.drills, request.drillId, !options.json && process.stderr.isTTY === true);
  if (options.json) printJson(job);
  else printDrill(job);
  if (job.status !== "PASSED") process.exitCode = 1;
}
