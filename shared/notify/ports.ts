import type { ContextBlock, DividerBlock, HeaderBlock, SectionBlock } from "@slack/types";

/** The blocks our messages use: a subset of Block Kit's, so every message is valid for a webhook and chat.postMessage. */
export type MessageBlock = HeaderBlock | SectionBlock | ContextBlock | DividerBlock;

/** One Slack message: Block Kit blocks, and the `text` fallback notifications and old clients show. */
export interface SlackMessage {
  text: string;
  blocks: MessageBlock[];
}

/** Where messages go: Slack (webhook or chat.postMessage), or the local stack's terminal. */
export interface Sender {
  /** For logs and reports: "slack-webhook", "slack-chat", "console". Never the URL or token. */
  readonly name: string;
  /** Resolves once the message was accepted; throws a SendError otherwise (after its own retries). */
  send(message: SlackMessage): Promise<void>;
}

/**
 * A message Slack did not take. `retryable`: Slack (or the network) was unavailable or rate limited beyond
 * the retry budget, so the next run tries again; otherwise Slack refused it (a revoked webhook, a bad payload).
 * Either way the alerts stay pending. The message is safe to log: it names a status, never the URL.
 */
export class SendError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = "SendError";
  }
}
