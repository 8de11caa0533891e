import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Context, SNSEvent } from "aws-lambda";
import { alertsFromNotification } from "../shared/alarms/bridge";
import { openCatalog } from "../shared/catalog/dynamo/open";
import { FUNCTIONS, type SettingsOf } from "../shared/contracts/functions";
import { lazyHandler } from "./commons/lazy-handler";
import { type Observability, observability } from "./commons/observability";

export interface AlarmBridgeClients {
  dynamo: DynamoDBClient;
}

/** SNS: each CloudWatch alarm change or failed asynchronous invocation becomes one alert, sent like any other. */
export function createAlarmBridge(
  settings: SettingsOf<"alarmBridge">,
  clients: AlarmBridgeClients,
  { logger, metrics }: Observability = observability("alarm-bridge"),
) {
  const alerts = openCatalog(clients.dynamo, settings.catalogTable).alerts;
  return async (event: SNSEvent, context: Context): Promise<{ raised: number }> => {
    logger.addContext(context);
    let raised = 0;
    try {
      for (const record of event.Records) {
        for (const { once, alert } of alertsFromNotification(record.Sns.MessageId, record.Sns.Message)) {
          if (await alerts.raiseOnce(once, alert, new Date())) raised++;
        }
      }
      metrics.addMetric("AlarmAlerts", MetricUnit.Count, raised);
      return { raised };
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

export const handler = lazyHandler(FUNCTIONS.alarmBridge, (settings) =>
  createAlarmBridge(settings, { dynamo: new DynamoDBClient({}) }),
);
