import type { Command } from "commander";
import type { Deployment } from "../../../shared/contracts/deployment";
import type { ReconstructedKey } from "../../../shared/keys/escrow";
import { secretsClient } from "../../aws";
import { deploymentFor } from "../../context";
import type { StoredKey } from "../../operator/key-escrow";
import type { ClearedFlag } from "../../operator/key-registry";
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
  const registered = deployment ? await storeAndRegister(key, deployment) : null;
  const combined = {
    key,
    stored: registered?.stored ?? null,
    cleared: registered?.cleared ?? [],
    written: options.out ?? null,
    print: options.print ?? false,
  };
  if (options.json) return printJson(combinedJson(combined));
  printCombined(combined);
}

/**
 * Stores the key as the current version; the keyring must know it before the next set arrives, and sets
 * flagged for naming it lose the flag.
 */
async function storeAndRegister(
  key: ReconstructedKey,
  deployment: Deployment,
): Promise<{ stored: StoredKey; cleared: ClearedFlag[] }> {
  const { storeMasterKey } = await import("../../operator/key-escrow");
  const { recheckFlaggedSets, registerHeldKeys } = await import("../../operator/key-registry");
  const secrets = await secretsClient();
  const stored = await storeMasterKey(key, deployment, secrets);
  const catalog = await catalogOf(deployment);
  const held = await registerHeldKeys(secrets, catalog.keyring, stored.secretName, new Date());
  return { stored, cleared: await recheckFlaggedSets(catalog.backups, held, new Date()) };
}
