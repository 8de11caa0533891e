import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { Context } from "aws-lambda";
import { SecretLookup } from "../shared/aws/secrets";
import { DynamoAlertStore } from "../shared/catalog/dynamo/alert-store";
import { FUNCTIONS, type SettingsOf } from "../shared/contracts/functions";
import { ChatSender } from "../shared/notify/chat-sender";
import { readSlackTarget, type SlackTarget } from "../shared/notify/connect";
import { notifyPending } from "../shared/notify/notify";
import type { Sender } from "../shared/notify/ports";
import type { RetryPolicy } from "../shared/notify/retry";
import { WebhookSender } from "../shared/notify/webhook-sender";
import { lazyHandler } from "./commons/lazy-handler";
import { type Observability, observability } from "./commons/observability";

export interface NotifierClients {
  dynamo: DynamoDBClient;
  secrets: SecretsManagerClient;
}

export interface NotifierOptions {
  /**
   * Where messages go while the Slack secret is absent or empty: the local stack's terminal. Without one
   * (AWS), nothing is sent and nothing is marked: the alerts wait in the catalog until Slack is connected.
   */
  fallback?: Sender;
  /** Tests: the clock, and the retry policy of the Slack senders. */
  now?: () => Date;
  retry?: Partial<RetryPolicy>;
}

/** How many waiting alerts a run without Slack counts at most (to say how many wait). */
const WAITING_COUNTED = 1000;

/** Time kept back at the end of a run: one message's retry budget and its marks. */
const RESERVE_MS = 50_000;

export interface NotifierResult {
  sender: string | null;
  pending: number;
  sent: number;
  messages: number;
  failure: string | null;
}

/**
 * Scheduled (every minute): sends the alerts not sent yet to Slack — the webhook or the bot token and channel
 * in the Slack secret, reread at most once a minute — and marks them sent; see shared/notify/notify.ts.
 */
export function createNotifier(
  settings: SettingsOf<"notifier">,
  clients: NotifierClients,
  { logger, metrics }: Observability = observability("notifier"),
  options: NotifierOptions = {},
) {
  // The alert store alone, not openCatalog: the notifier's bundle carries none of the other stores' code.
  const alerts = new DynamoAlertStore(clients.dynamo, settings.catalogTable);
  const secrets = new SecretLookup(clients.secrets, { maxAgeMs: 60_000 });
  const now = options.now ?? (() => new Date());
  return async (_event: unknown, context: Context): Promise<NotifierResult> => {
    logger.addContext(context);
    try {
      const sender = senderFor(await readSlackTarget(secrets, settings.slackSecret), options, (reason) =>
        logger.error(`the Slack secret ${settings.slackSecret} cannot be used: ${reason}; alerts wait`),
      );
      if (!sender) {
        const waiting = (await alerts.pending(WAITING_COUNTED)).length;
        if (waiting > 0) {
          const count = waiting === WAITING_COUNTED ? `${waiting} or more` : String(waiting);
          logger.warn(`Slack is not connected: ${count} alerts wait`, { slackSecret: settings.slackSecret });
        }
        metrics.addMetric("AlertsWaiting", MetricUnit.Count, waiting);
        return { sender: null, pending: waiting, sent: 0, messages: 0, failure: null };
      }
      const report = await notifyPending({
        alerts,
        sender,
        now,
        log: logger,
        timeLeft: () => (context.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY) > RESERVE_MS,
      });
      metrics.addMetric("AlertsSent", MetricUnit.Count, report.sent);
      metrics.addMetric("AlertsWaiting", MetricUnit.Count, report.pending - report.sent);
      if (report.failure) metrics.addMetric("SlackFailures", MetricUnit.Count, 1);
      if (report.sent > 0) logger.info("sent alerts", { ...report, sender: sender.name });
      return { sender: sender.name, ...report };
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

function senderFor(
  target: SlackTarget | undefined,
  options: NotifierOptions,
  unusable: (reason: string) => void,
): Sender | undefined {
  const retry = options.retry ? { retry: options.retry } : {};
  switch (target?.kind) {
    case "webhook":
      return new WebhookSender(target.url, retry);
    case "chat":
      return new ChatSender(target.token, target.channel, retry);
    case "invalid":
      unusable(target.reason);
      return undefined;
    default:
      return options.fallback;
  }
}

export const handler = lazyHandler(FUNCTIONS.notifier, (settings) =>
  createNotifier(settings, { dynamo: new DynamoDBClient({}), secrets: new SecretsManagerClient({}) }),
);
