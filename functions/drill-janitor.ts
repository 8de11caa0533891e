import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EC2Client } from "@aws-sdk/client-ec2";
import type { Context } from "aws-lambda";
import { openCatalog } from "../shared/catalog/dynamo/open";
import { FUNCTIONS, type SettingsOf } from "../shared/contracts/functions";
import { sweepDrillInstances } from "../shared/drills/janitor";
import { lazyHandler } from "./commons/lazy-handler";
import { type Observability, observability } from "./commons/observability";

export interface DrillJanitorClients {
  dynamo: DynamoDBClient;
  ec2: EC2Client;
}

/** Scheduled: terminates restore-drill instances past their deadline and records their drills. */
export function createDrillJanitor(
  settings: SettingsOf<"drillJanitor">,
  clients: DrillJanitorClients,
  { logger, metrics }: Observability = observability("drill-janitor"),
) {
  const catalog = openCatalog(clients.dynamo, settings.catalogTable);
  return async (_event: unknown, context: Context): Promise<{ terminated: string[] }> => {
    logger.addContext(context);
    try {
      const terminated = await sweepDrillInstances({
        ec2: clients.ec2,
        drills: catalog.drills,
        alerts: catalog.alerts,
        log: logger,
        now: () => new Date(),
      });
      metrics.addMetric("DrillInstancesTerminated", MetricUnit.Count, terminated.length);
      return { terminated };
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

export const handler = lazyHandler(FUNCTIONS.drillJanitor, (settings) =>
  createDrillJanitor(settings, { dynamo: new DynamoDBClient({}), ec2: new EC2Client({}) }),
);
