import type { Command } from "commander";
import type { Deployment } from "../../../shared/contracts/deployment";
import { silentLog } from "../../../shared/log";
import type { VerificationReport } from "../../../shared/restic/verifier";
import type { OperatorClients } from "../../operator/restic-repositories";
import { printJson } from "../../output/format";
import { printVerification } from "../../output/restic";
import { resticServicesFor } from "../../services";

export function registerResticVerify(restic: Command): void {
  restic
    .command("verify")
    .description("Verify the next slice of a repository now (what the scheduled verifier does), without its password")
    .argument("<name>", "repository name")
    .option("--all", "verify every slice, i.e. the whole repository")
    .option("--json", "print JSON for scripts")
    .action(verify);
}

async function verify(name: string, options: { all?: boolean; json?: boolean }, command: Command): Promise<void> {
  const { deployment, clients } = await resticServicesFor(command);
  const { requireRepository } = await import("../../operator/restic-repositories");
  const runs = options.all ? (await requireRepository(name, clients)).verifySlices : 1;
  const reports = await verifySlices(name, runs, deployment, clients);
  if (options.json) return printJson({ reports });
  printVerification(reports);
  // Files that do not hash to their name are a finding, as a failed check is (--json leaves it to the reader).
  if ((reports[reports.length - 1]?.openMismatches.length ?? 0) > 0) process.exitCode = 1;
}

/** Runs the scheduled verifier `runs` times in a row, one slice each. */
async function verifySlices(
  name: string,
  runs: number,
  deployment: Deployment,
  clients: OperatorClients,
): Promise<VerificationReport[]> {
  const { verifyNextSlice } = await import("../../../shared/restic/verifier");
  const dependencies = {
    s3: clients.s3,
    bucket: deployment.bucket,
    repositories: clients.repositories,
    log: silentLog,
    now: () => new Date(),
  };
  const reports = [];
  for (let run = 0; run < runs; run++) reports.push(await verifyNextSlice(name, dependencies));
  return reports;
}
