import { randomBytes } from "node:crypto";
import type { Command } from "commander";
import type { DrillRequest } from "../../../shared/drills/prepare";
import { makeDrillId, pruneSource } from "../../../shared/drills/record";
import { ConfigurationError } from "../../../shared/errors";
import { servicesFor } from "../../services";
import { startDrill } from "../drill/run";

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
  const services = await servicesFor(command);
  const now = new Date();
  // Started whatever retention asked for; false only when no such repository is registered.
  if (!(await services.catalog.repositories.claimPrune(name, now, { force: true }))) {
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
  await startDrill(services, request, options, `Started restic prune of ${name} as ${request.drillId}`);
}
