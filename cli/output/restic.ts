import type { ResticRepository } from "../../shared/restic/repository";
import type { VerificationReport } from "../../shared/restic/verifier";
import type { ResticEnvironment } from "../operator/restic-environment";
import type { AddedRepository } from "../operator/restic-repositories";
import { plural, printTable, shortTime } from "./format";

/** What `restic add-repo` did, and everything a host's restic needs: the -r URL, its environment, the retention hint. */
export function printAddedRepository(name: string, added: AddedRepository, environment: ResticEnvironment): void {
  console.log(
    `${added.created ? "Registered" : "Updated"} restic repository ${name}; its password is in the secret ${added.repository.secretName}.`,
  );
  if (added.passwordCheck === "opens") console.log("The password opens the repository's keys.");
  if (added.backfilled) {
    console.log(
      `Queued its ${plural(added.backfilled, "existing snapshot")} for indexing: restorable catalog list --repo ${name} shows them as they arrive.`,
    );
  }
  const init = added.passwordCheck === "not-initialised" ? `  restic -r ${added.url} init\n` : "";
  console.log(
    "\nGive restic this repository and environment:\n" +
      `${resticEnvironmentLines(environment.env).join("\n")}\n` +
      `  export RESTIC_REPOSITORY=${added.url}\n${init}  restic -r ${added.url} ...\n` +
      `Credentials: ${environment.credentials}.`,
  );
  console.log(
    "\nWorkspaces using the Coder restic module: set auto_forget = false in the module (hosts cannot forget, by\n" +
      "design: restic forget is denied to them) and move its retention_keep_* values here, e.g. for\n" +
      "retention_keep_last = 10 and retention_keep_daily = 14:\n" +
      `  restorable retention set-policy --repo ${name} --keep-last 10 --keep-daily 14`,
  );
}

/** `export NAME=value` lines for restic's environment. */
export function resticEnvironmentLines(env: Record<string, string>): string[] {
  return Object.entries(env).map(([variable, value]) => `  export ${variable}=${value}`);
}

export function printRepositories(repositories: (ResticRepository & { url: string })[]): void {
  if (repositories.length === 0) {
    console.log("No restic repository is registered: restorable restic add-repo <name> --password-file <file>");
    return;
  }
  printTable(
    ["NAME", "READABLE", "VERIFIED", "INTEGRITY", "GROUP BY", "URL"],
    repositories.map((r) => [
      r.name,
      r.health ? `${r.health.status}${r.health.reason ? ` (${r.health.reason})` : ""}` : "no snapshot yet",
      verifiedSummary(r),
      integritySummary(r),
      r.groupBy.join(",") || "-",
      r.url,
    ]),
  );
}

function verifiedSummary(repository: Pick<ResticRepository, "verifySlices" | "verification">): string {
  const covered = Object.keys(repository.verification?.sliceCheckedAt ?? {}).length;
  return `${covered}/${repository.verifySlices} slices`;
}

function integritySummary(repository: Pick<ResticRepository, "verification">): string {
  const mismatches = Object.keys(repository.verification?.openMismatches ?? {}).length;
  if (!repository.verification) return "not verified yet";
  return mismatches === 0
    ? "OK"
    : `CORRUPT: ${mismatches} file${mismatches === 1 ? " does" : "s do"} not hash to their name`;
}

/** What `restic verify` checked, and the coverage and mismatches after its last slice. */
export function printVerification(reports: VerificationReport[]): void {
  const checked = reports.reduce((sum, report) => sum + report.objectsChecked, 0);
  console.log(`Checked ${plural(checked, "file")} in ${plural(reports.length, "slice")}.`);
  const last = reports[reports.length - 1];
  if (!last) return;
  console.log(
    `Coverage: ${last.slicesCovered} of ${last.slices} slices${last.fullyVerifiedSince ? `, whole repository verified since ${shortTime(last.fullyVerifiedSince)}` : ""}.`,
  );
  if (last.openMismatches.length > 0) {
    console.log(`\n${last.openMismatches.length} file(s) do not hash to their name:`);
    for (const key of last.openMismatches) console.log(`  ${key}`);
  } else {
    console.log("Every file checked hashes to its name.");
  }
}
