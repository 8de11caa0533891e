import type { SecretLookup } from "../aws/secrets";

/** Where Slack messages go, as the Slack secret says. */
export type SlackTarget =
  | { kind: "webhook"; url: string }
  | { kind: "chat"; token: string; channel: string }
  /** The secret holds something else; `reason` never quotes it. */
  | { kind: "invalid"; reason: string };

/**
 * The Slack secret's text: a webhook URL, or JSON {"token", "channel"} for chat.postMessage (also
 * {"webhookUrl"} / {"url"}). undefined — Slack is not connected — when the secret does not exist, is empty,
 * or is a JSON object naming none of those (`{}`, or the placeholder a stack creates the secret with).
 */
export async function readSlackTarget(secrets: SecretLookup, name: string): Promise<SlackTarget | undefined> {
  const value = await secrets.get(name);
  const text = value?.text.trim();
  if (!text) return undefined;
  return parseSlackTarget(text);
}

export function parseSlackTarget(text: string): SlackTarget | undefined {
  if (text.startsWith("{")) {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return { kind: "invalid", reason: "it starts with { but is not JSON" };
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      return { kind: "invalid", reason: "its JSON is not an object" };
    }
    if (!["webhookUrl", "url", "token", "channel"].some((key) => key in parsed)) return undefined;
    const url = parsed.webhookUrl ?? parsed.url;
    if (typeof url === "string") return webhook(url);
    if (typeof parsed.token === "string" && typeof parsed.channel === "string" && parsed.token && parsed.channel) {
      return { kind: "chat", token: parsed.token, channel: parsed.channel };
    }
    return { kind: "invalid", reason: 'its JSON has neither "token" and "channel" nor "webhookUrl"' };
  }
  return webhook(text);
}

function webhook(url: string): SlackTarget {
  try {
    const parsed = new URL(url);
    if (parsed.protocol === "https:" || parsed.protocol === "http:") return { kind: "webhook", url };
  } catch {
    // Not a URL: said below.
  }
  return { kind: "invalid", reason: "it is not an http(s) URL" };
}
