import type { Command } from "commander";
import type { Deployment } from "../../../shared/contracts/deployment";
import type { ReconstructedKey } from "../../../shared/keys/escrow";
import { secretsClient } from "../../aws";
import { deploymentFor } from "../../context";
import type { StoredKey } from "../../operator/key-escrow";
import { printJson } from "../../output/format";
import { combinedJson, printCombined } from "../../output/keys";
import { catalogOf } from "../../services";

interface CombineOptions {
  store?: boolean;
  out?: string;
  print?: boolean;
  json?: boolean;
}

export function registerKeyCombine(key: Command): void {
  key
    .command("combine")
    .description("Rebuild the master key from share files and verify it against its fingerprint")
    .argument("<files...>", "share files written by `restorable key split`")
    .option("--store", "put the key back into Secrets Manager as a new version of the master key secret")
    .option("--out <file>", "write the master key secret's JSON to this new file, readable by its owner only")
    .option("--print", "print the key itself on stdout (the report goes to stderr)")
    .option("--json", "print JSON for scripts")
    .addHelpText(
      "after",
      "\nWithout --store, --out or --print, only says whether the shares rebuild the key. Nothing is stored,\n" +
        "written or printed unless the result matches the fingerprint recorded in the shares.",
    )
    .action(combine);
}

async function combine(files: string[], options: CombineOptions, command: Command): Promise<void> {
  const { combineShareFiles, masterKeySecretName, writeSecretFile } = await import("../../operator/key-escrow");
  // Where to store is settled before anything happens; without --store no AWS access is needed at all.
  const deployment = options.store ? await deploymentFor(command) : null;
  if (deployment) masterKeySecretName(deployment);
  const key = await combineShareFiles(files);
  // Local first: a refused --out must not leave the key stored and the operator unsure what happened.
  if (options.out) await writeSecretFile(options.out, key);
  const stored = deployment ? await storeAndRegister(key, deployment) : null;
  const combined = { key, stored, written: options.out ?? null, print: options.print ?? false };
  if (options.json) return printJson(combinedJson(combined));
  printCombined(combined);
}

/** Stores the key as the current version; the keyring must know it before the next set arrives. */
async function storeAndRegister(key: ReconstructedKey, deployment: Deployment): Promise<StoredKey> {
  const { storeMasterKey } = await import("../../operator/key-escrow");
  const { registerHeldKeys } = await import("../../operator/key-registry");
  const stored = await storeMasterKey(key, deployment, await secretsClient());
  const { keyring } = await catalogOf(deployment);
  await registerHeldKeys(await secretsClient(), keyring, stored.secretName, new Date());
  return stored;
}
