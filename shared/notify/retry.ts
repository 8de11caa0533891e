import { SendError } from "./ports";

/** How one message is retried within one notifier run; what is left over waits for the next run. */
export interface RetryPolicy {
  /** Tries in all for 5xx and network errors. */
  attempts: number;
  /** First backoff after a 5xx, doubled each time, capped at `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** 429s honoured in a row at most. */
  rateLimitedAttempts: number;
  /** Time one message may take, waits included: a longer Retry-After leaves it for the next run. */
  budgetMs: number;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 4,
  baseDelayMs: 1000,
  maxDelayMs: 8000,
  rateLimitedAttempts: 3,
  budgetMs: 45_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: Date.now,
};

/** What went wrong with one try, as the sender's transport tells it. */
export type Failure =
  | { kind: "rate-limited"; status: 429; retryAfterMs: number }
  | { kind: "unavailable"; status: number | null; reason: string }
  | { kind: "refused"; status: number | null; reason: string };

/**
 * Runs `post` until it succeeds: a 429 waits its Retry-After and tries again; a 5xx or a network error backs
 * off exponentially (1 s, 2 s, 4 s…); anything else (a 4xx: revoked webhook, bad payload) gives up at once.
 * Gives up with a SendError when the attempts or the time budget are spent.
 */
export async function withRetries(
  post: () => Promise<void>,
  classify: (error: unknown) => Failure,
  policy: RetryPolicy = DEFAULT_RETRY,
): Promise<void> {
  const started = policy.now();
  let failures = 0;
  let rateLimited = 0;
  for (;;) {
    let failure: Failure;
    try {
      await post();
      return;
    } catch (error) {
      failure = classify(error);
    }
    const spent = policy.now() - started;
    if (failure.kind === "refused") {
      throw new SendError(`Slack refused the message (${statusOf(failure)}): ${failure.reason}`, failure.status, false);
    }
    if (failure.kind === "rate-limited") {
      rateLimited++;
      if (rateLimited > policy.rateLimitedAttempts || spent + failure.retryAfterMs > policy.budgetMs) {
        throw new SendError(
          `Slack rate limited the message (Retry-After ${Math.ceil(failure.retryAfterMs / 1000)} s); it waits for the next run`,
          429,
          true,
        );
      }
      await policy.sleep(failure.retryAfterMs);
      continue;
    }
    failures++;
    const delay = Math.min(policy.baseDelayMs * 2 ** (failures - 1), policy.maxDelayMs);
    if (failures >= policy.attempts || spent + delay > policy.budgetMs) {
      throw new SendError(
        `Slack is unavailable (${statusOf(failure)}: ${failure.reason}) after ${failures} tries; the message waits for the next run`,
        failure.status,
        true,
      );
    }
    await policy.sleep(delay);
  }
}

function statusOf(failure: Failure): string {
  return failure.status === null ? "no response" : `HTTP ${failure.status}`;
}

/** Retry-After in seconds (or an HTTP date), as milliseconds; 1 s when absent or unreadable. */
export function retryAfterMs(header: unknown, now = Date.now()): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value === "number" && Number.isFinite(value)) return Math.max(0, value) * 1000;
  if (typeof value !== "string" || value.trim() === "") return 1000;
  const seconds = Number(value.trim());
  if (Number.isFinite(seconds)) return Math.max(0, seconds) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? 1000 : Math.max(0, date - now);
}
