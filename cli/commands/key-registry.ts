import type { Command } from "commander";
import { dynamoClient, secretsClient } from "../aws";
import { deploymentFor } from "../context";
import { printJson, printTable } from "../output";

/** The master key's place in Secrets Manager and which keys the service holds. */
export function registerKeyRegistryCommands(key: Command): void {
  key
    .command("register")
    .description("Record which master keys the service holds (every version of the secret), by id and fingerprint")
    .option("--json", "print JSON for scripts")
    .action(async (options: { json?: boolean }, command: Command) => {
      const held = await withRegistry(command, async ({ secrets, keyring, secretName }) => {
        const { registerHeldKeys } = await import("../operator/key-registry");
        return registerHeldKeys(secrets, keyring, secretName, new Date());
      });
      if (options.json) return printJson({ held });
      printHeld(held);
    });

  key
    .command("import")
    .description("Make an existing key the master key (the previous one stays held), then register")
    .requiredOption("--key-file <file>", "file holding the key as the application uses it")
    .option("--key-id <id>", "the id the application writes into master-key-id.txt (default: the key's fingerprint)")
    .option("--json", "print JSON for scripts")
    .action(async (options: { keyFile: string; keyId?: string; json?: boolean }, command: Command) => {
      const held = await withRegistry(command, async ({ secrets, keyring, secretName }) => {
        const { importMasterKey, readKeyFile, registerHeldKeys } = await import("../operator/key-registry");
        await importMasterKey(secrets, secretName, await readKeyFile(options.keyFile, options.keyId));
        return registerHeldKeys(secrets, keyring, secretName, new Date());
      });
      if (options.json) return printJson({ held });
      printHeld(held);
    });

  key
    .command("status")
    .description("Show the master keys the service holds, as last registered")
    .option("--json", "print JSON for scripts")
    .action(async (options: { json?: boolean }, command: Command) => {
      const held = await withRegistry(command, ({ keyring }) => keyring.held());
      if (options.json) return printJson({ held: held ?? null });
      if (!held) return console.log("No master key registered yet: run restorable key register");
      printHeld(held);
    });
}

function printHeld(held: { keyId: string; fingerprint: string; labels: string[] }[]): void {
  printTable(
    ["KEY ID", "FINGERPRINT", "VERSION"],
    held.map((key) => [key.keyId, key.fingerprint, key.labels.join(",") || "older"]),
  );
}

async function withRegistry<T>(
  command: Command,
  run: (context: {
    secrets: import("@aws-sdk/client-secrets-manager").SecretsManagerClient;
    keyring: import("../../shared/catalog/dynamo/keyring").DynamoKeyring;
    secretName: string;
  }) => Promise<T>,
): Promise<T> {
  const deployment = await deploymentFor(command);
  const { masterKeySecretName } = await import("../operator/key-escrow");
  const { DynamoKeyring } = await import("../../shared/catalog/dynamo/keyring");
  return run({
    secrets: await secretsClient(),
    keyring: new DynamoKeyring(await dynamoClient(), deployment.table),
    secretName: masterKeySecretName(deployment),
  });
}
