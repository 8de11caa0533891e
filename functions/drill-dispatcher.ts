import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import type { Context } from "aws-lambda";
import { openCatalog } from "../shared/catalog/dynamo/open";
import { FUNCTIONS, type SettingsOf } from "../shared/contracts/functions";
import { dispatchDueDrills } from "../shared/drills/dispatch";
import { lazyHandler } from "./commons/lazy-handler";
import { type Observability, observability } from "./commons/observability";

export interface DrillDispatcherClients {
  dynamo: DynamoDBClient;
  sfn: SFNClient;
}

/** Scheduled: starts the restore drills whose plans are due. */
export function createDrillDispatcher(
  settings: SettingsOf<"drillDispatcher">,
  clients: DrillDispatcherClients,
  { logger, metrics }: Observability = observability("drill-dispatcher"),
) {
  const drills = openCatalog(clients.dynamo, settings.catalogTable).drills;
  return async (_event: unknown, context: Context): Promise<{ started: string[] }> => {
    logger.addContext(context);
    try {
      const started = await dispatchDueDrills({
        drills,
        start: async (request) => {
          await clients.sfn.send(
            new StartExecutionCommand({
              stateMachineArn: settings.drillStateMachineArn,
              name: request.drillId,
              input: JSON.stringify({ request }),
            }),
          );
        },
        log: logger,
        now: () => new Date(),
      });
      metrics.addMetric("DrillsStarted", MetricUnit.Count, started.length);
      return { started };
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

export const handler = lazyHandler(FUNCTIONS.drillDispatcher, (settings) =>
  createDrillDispatcher(settings, { dynamo: new DynamoDBClient({}), sfn: new SFNClient({}) }),
);
