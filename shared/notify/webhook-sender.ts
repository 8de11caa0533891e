import { IncomingWebhook, type IncomingWebhookDefaultArguments } from "@slack/webhook";
import type { SlackMessage } from "./ports";
import { DEFAULT_RETRY, type Failure, type RetryPolicy, retryAfterMs, withRetries } from "./retry";
import { outgoing } from "./scrub";

/** What the transport tells of a failed post: an HTTP status and headers, or none (the network). */
interface HttpFailure {
  status: number | null;
  headers: Record<string, unknown>;
  body: string;
}

/**
 * Posts to a Slack incoming webhook with Slack's own client. It gives up at once on a 429 and has no backoff
 * of its own (no retries configured), so `withRetries` honours Retry-After and backs off on 5xx here.
 * The URL is a secret: it is never logged, and the client's errors (which carry it in their request
 * config) never leave this file, only their status.
 */
export class WebhookSender {
  readonly name = "slack-webhook";
  private readonly webhook: IncomingWebhook;

  constructor(
    private readonly url: string,
    private readonly options: { retry?: Partial<RetryPolicy>; timeoutMs?: number } = {},
  ) {
    const defaults: IncomingWebhookDefaultArguments = { timeout: options.timeoutMs ?? 10_000 };
    this.webhook = new IncomingWebhook(url, defaults);
    // The client copies its defaults into every payload; the timeout is its HTTP client's, which has it now.
    delete defaults.timeout;
  }

  async send(message: SlackMessage): Promise<void> {
    const payload = outgoing(message, [this.url]);
    await withRetries(
      async () => {
        await this.webhook.send(payload);
      },
      (error) => classify(failureOf(error)),
      { ...DEFAULT_RETRY, ...this.options.retry },
    );
  }
}

function failureOf(error: unknown): HttpFailure {
  const original = (error as { original?: { response?: { status?: number; headers?: unknown; data?: unknown } } })
    .original;
  const response = original?.response;
  if (!response || typeof response.status !== "number") {
    const code = (original as { code?: unknown } | undefined)?.code;
    return { status: null, headers: {}, body: typeof code === "string" ? code : "no response" };
  }
  return {
    status: response.status,
    headers: (response.headers ?? {}) as Record<string, unknown>,
    body: typeof response.data === "string" ? response.data.slice(0, 200) : "",
  };
}

/** 429: wait; 5xx and no response: back off; any other status: Slack refused it (revoked, archived, bad payload). */
export function classify(failure: HttpFailure): Failure {
  if (failure.status === 429) {
    return { kind: "rate-limited", status: 429, retryAfterMs: retryAfterMs(failure.headers["retry-after"]) };
  }
  if (failure.status === null || failure.status >= 500) {
    return { kind: "unavailable", status: failure.status, reason: failure.body || "server error" };
  }
  return { kind: "refused", status: failure.status, reason: failure.body || "refused" };
}
