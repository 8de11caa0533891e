import type { Command } from "commander";
import type { Catalog } from "../shared/catalog/dynamo/open";
import type { Deployment } from "../shared/contracts/deployment";
import { dynamoClient, s3Client, secretsClient, sqsClient } from "./aws";
import { deploymentFor } from "./context";
import type { OperatorClients } from "./operator/restic-repositories";

/** What most commands start from: the deployment their flags name, and its catalog opened. */
export interface Services {
  deployment: Deployment;
  catalog: Catalog;
}

/** Resolves the command's deployment and opens its catalog through the one shared factory. */
export async function servicesFor(command: Command): Promise<Services> {
  const deployment = await deploymentFor(command);
  return { deployment, catalog: await catalogOf(deployment) };
}

/** The deployment's catalog table, every store of it, through shared/catalog/dynamo/open.ts. */
export async function catalogOf(deployment: Deployment): Promise<Catalog> {
  const { openCatalog } = await import("../shared/catalog/dynamo/open");
  return openCatalog(await dynamoClient(), deployment.table);
}

/** The clients the restic repository commands need, with the catalog's repository store. */
export async function operatorClients(catalog: Catalog): Promise<OperatorClients> {
  return {
    s3: await s3Client(),
    secrets: await secretsClient(),
    repositories: catalog.repositories,
    sqs: await sqsClient(),
  };
}

/** The restic repository commands' starting point: the deployment and the operator's clients. */
export async function resticServicesFor(
  command: Command,
): Promise<{ deployment: Deployment; clients: OperatorClients }> {
  const { deployment, catalog } = await servicesFor(command);
  return { deployment, clients: await operatorClients(catalog) };
}
