import type { SlackMessage } from "./ports";
import { DEFAULT_RETRY, type Failure, type RetryPolicy, retryAfterMs, withRetries } from "./retry";
import { outgoing } from "./scrub";

/** A transport failure, before it is classified. */
class ChatFailure extends Error {
  constructor(readonly failure: Failure) {
    super(failure.kind);
  }
}

/**
 * Posts with chat.postMessage (a bot token with `chat:write`, and a channel). One documented call, made with
 * Node's fetch rather than @slack/web-api: that client and its dependencies would add about 60 KB to the
 * notifier's bundle for this one call, whose retries (429 Retry-After, 5xx backoff) `withRetries` makes
 * anyway, as for webhooks (sent with Slack's @slack/webhook). The token goes in the Authorization header only,
 * and nothing of a failure but Slack's error code (`channel_not_found`) is kept.
 */
export class ChatSender {
  readonly name = "slack-chat";

  constructor(
    private readonly token: string,
    private readonly channel: string,
    private readonly options: { retry?: Partial<RetryPolicy>; timeoutMs?: number; slackApiUrl?: string } = {},
  ) {}

  async send(message: SlackMessage): Promise<void> {
    const payload = outgoing(message, [this.token]);
    const url = `${this.options.slackApiUrl ?? "https://slack.com/api/"}chat.postMessage`;
    await withRetries(
      () => this.post(url, JSON.stringify({ channel: this.channel, text: payload.text, blocks: payload.blocks })),
      (error) =>
        error instanceof ChatFailure ? error.failure : { kind: "unavailable", status: null, reason: "no response" },
      { ...DEFAULT_RETRY, ...this.options.retry },
    );
  }

  private async post(url: string, body: string): Promise<void> {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8", authorization: `Bearer ${this.token}` },
      body,
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
    });
    const text = await response.text();
    if (response.status === 429) {
      throw new ChatFailure({
        kind: "rate-limited",
        status: 429,
        retryAfterMs: retryAfterMs(response.headers.get("retry-after")),
      });
    }
    if (response.status >= 500) {
      throw new ChatFailure({ kind: "unavailable", status: response.status, reason: "server error" });
    }
    const result = safeJson(text);
    if (response.status !== 200 || result?.ok !== true) {
      // Slack's error code is a word (invalid_auth, channel_not_found): never the token or the payload.
      const code = typeof result?.error === "string" ? result.error.replace(/[^a-z_]/g, "").slice(0, 60) : "refused";
      throw new ChatFailure({ kind: "refused", status: response.status, reason: code || "refused" });
    }
  }
}

function safeJson(text: string): { ok?: unknown; error?: unknown } | undefined {
  try {
    return JSON.parse(text) as { ok?: unknown; error?: unknown };
  } catch {
    return undefined;
  }
}
