import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { Command } from "commander";
import type { DynamoKeyring } from "../../../shared/catalog/dynamo/keyring";
import type { Catalog } from "../../../shared/catalog/dynamo/open";
import { secretsClient } from "../../aws";
import { servicesFor } from "../../services";

/** What the key registry commands work with: the master key secret and the catalog's keyring. */
export interface Registry {
  secrets: SecretsManagerClient;
  keyring: DynamoKeyring;
  secretName: string;
  /** The whole catalog: registering a key re-checks the sets flagged for naming one not held. */
  catalog: Catalog;
}

export async function registryFor(command: Command): Promise<Registry> {
  const { deployment, catalog } = await servicesFor(command);
  const { masterKeySecretName } = await import("../../operator/key-escrow");
  return {
    secrets: await secretsClient(),
    keyring: catalog.keyring,
    secretName: masterKeySecretName(deployment),
    catalog,
  };
}
