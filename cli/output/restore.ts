import * as path from "node:path";
import type { DumpSetEntry, ResticSnapshotEntry } from "../../shared/catalog/entry";
import type { Deployment } from "../../shared/contracts/deployment";
import { resticRepositoryUrl, resticSecretName } from "../../shared/restic/repository";
import type { PgRestoreResult } from "../restore/pg-restore";
import type { RestoreResult } from "../restore/restore-set";
import { bytes, printTable } from "./format";
import { shellQuote } from "./retention";

/** What a restore wrote where, and the page's next steps with the restored paths filled in. */
export function printRestoreResult(result: RestoreResult, entry: DumpSetEntry): void {
  console.log(
    `Restored ${result.components.length} component(s) of ${result.id} (source ${result.source}) into ${result.to}: ` +
      `${bytes(result.bytes)} in ${result.seconds.toFixed(1)} s, every byte verified against the SHA-256 recorded at push`,
  );
  printTable(
    ["COMPONENT", "RESTORED AS", "SIZE", "SHA-256"],
    result.components.map((c) => [
      c.name,
      c.restoredAs.map((name) => (c.unpacked ? `${name}/` : name)).join(" ") || "-",
      String(c.bytes),
      c.sha256,
    ]),
  );
  const restored = new Set(result.components.flatMap((c) => c.restoredAs));
  const at = (name: string) => shellQuote(path.join(result.to, name));
  const steps = [
    restored.has("manifest.txt") ? `cat ${at("manifest.txt")}      # the server version to install` : "",
    restored.has("main.dump") ? `pg_restore -d codebolt ${at("main.dump")}` : "",
    ...["shadow-git", "vectordb", "kg", "capabilities"]
      .filter((d) => restored.has(d))
      .map((d) => `sudo rsync -a ${at(d)}/ /var/lib/codebolt/${d}/`),
    restored.has("codebolt-server.yaml") ? `sudo cp ${at("codebolt-server.yaml")} /etc/codebolt/` : "",
  ].filter((line) => line !== "");
  if (steps.length > 0) console.log(`\nThe restore steps take it from here:\n${steps.map((s) => `  ${s}`).join("\n")}`);
  if (entry.masterKeyId === null) {
    console.log(
      "\nThe set records no master key id: restore the master key the server used then from where it is kept.",
    );
  }
}

export function printPgRestoreResult(result: PgRestoreResult): void {
  const what = result.entry ? `${result.entry} from ${result.component}` : result.component;
  console.log(
    `Restored ${what} of ${result.id} (source ${result.source}) with pg_restore: ${bytes(result.bytes)} in ` +
      `${result.seconds.toFixed(1)} s, SHA-256 ${result.sha256} verified; nothing was written to disk`,
  );
}

export interface ResticRestoreCommand {
  repository: string;
  repositoryUrl: string;
  /** The command as an argument list, and as one shell line. */
  command: string[];
  commandLine: string;
  /** Where the repository's password is kept (restic asks for it). */
  passwordSecret: string;
}

export function resticRestoreCommand(
  snapshot: ResticSnapshotEntry,
  deployment: Deployment,
  to: string | undefined,
): ResticRestoreCommand {
  const repositoryUrl = resticRepositoryUrl({
    bucket: deployment.bucket,
    repository: snapshot.repository,
    region: deployment.region,
    ...(deployment.endpoint ? { endpoint: deployment.endpoint } : {}),
  });
  const command = ["restic", "-r", repositoryUrl, "restore", snapshot.id, "--target", to ?? "<dir>"];
  const commandLine = command.map((word, index) => (index === 6 && to === undefined ? word : shellQuote(word)));
  return {
    repository: snapshot.repository,
    repositoryUrl,
    command,
    commandLine: commandLine.join(" "),
    passwordSecret: resticSecretName(deployment.bucket, snapshot.repository),
  };
}

export function printResticRestore(
  snapshot: ResticSnapshotEntry,
  restore: ResticRestoreCommand,
  env: Record<string, string>,
): void {
  console.log(
    `${snapshot.id.slice(0, 8)} is a restic snapshot of repository ${restore.repository}; restic restores its own ` +
      "snapshots. Run:\n",
  );
  for (const [name, value] of Object.entries(env)) console.log(`  export ${name}=${shellQuote(value)}`);
  console.log(`  ${restore.commandLine}`);
  console.log(
    `\nrestic asks for the repository's password: it is the Secrets Manager secret ${restore.passwordSecret} ` +
      "(give it to restic with --password-file or RESTIC_PASSWORD_FILE).",
  );
}
