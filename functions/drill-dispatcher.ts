import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import type { Context } from "aws-lambda";
import { openCatalog } from "../shared/catalog/dynamo/open";
import type { SourceEntry } from "../shared/catalog/entry";
import { FUNCTIONS, type SettingsOf } from "../shared/contracts/functions";
import { METRICS } from "../shared/contracts/metrics";
import { dispatchDueDrills } from "../shared/drills/dispatch";
import type { StoredPlan } from "../shared/drills/ports";
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
  const catalog = openCatalog(clients.dynamo, settings.catalogTable);
  const drills = catalog.drills;
  return async (_event: unknown, context: Context): Promise<{ started: string[] }> => {
    logger.addContext(context);
    try {
      const started = await dispatchDueDrills({
        drills,
        repositories: catalog.repositories,
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
      // Always a figure (0 without scheduled plans): the alarm on it treats no figure as an alarm.
      const days = await oldestProofDays(await drills.listPlans(), await catalog.backups.listSources(), new Date());
      metrics.addMetric(METRICS.oldestProofDays.metricName, MetricUnit.Count, days);
      return { started };
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

/**
 * How long the worst-off source with a scheduled drill plan has gone without a passing drill, in days; a
 * source that never passed counts from when its plan's first drill was due (or as 0 before that).
 */
export function oldestProofDays(plans: StoredPlan[], sources: SourceEntry[], now: Date): number {
  const proven = new Map(sources.map((source) => [source.source, source.lastProvenRestorable?.at ?? null]));
  let worst = 0;
  for (const { source, plan, lastDueAt } of plans) {
    if (!plan.schedule) continue;
    const since = proven.get(source) ?? lastDueAt;
    if (!since) continue;
    worst = Math.max(worst, (now.getTime() - Date.parse(since)) / 86_400_000);
  }
  return Math.round(worst * 10) / 10;
}

export const handler = lazyHandler(FUNCTIONS.drillDispatcher, (settings) =>
  createDrillDispatcher(settings, { dynamo: new DynamoDBClient({}), sfn: new SFNClient({}) }),
);
