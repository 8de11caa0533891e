/** Small formatting helpers for Slack's mrkdwn; every piece of an alert goes through `esc` or `code`. */

/** Slack's mrkdwn control characters: &, < and > (a `<!channel>` in an alert must not ping anyone). */
export function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Inline code: ids, keys, sources and commands (underscores in names are not italics there). */
export function code(text: string): string {
  return `\`${esc(text.replace(/`/g, "'"))}\``;
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

export function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** `2025-06-01 02:00 UTC` for an ISO time; anything else as it is. */
export function when(iso: string): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  return `${new Date(time).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** `45s`, `4m 12s`, `27h`, `3d 4h`: two units at most. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? ` ${s % 60}s` : ""}`;
  if (s < 86_400) {
    const minutes = Math.floor((s % 3600) / 60);
    return `${Math.floor(s / 3600)}h${minutes ? ` ${minutes}m` : ""}`;
  }
  const hours = Math.floor((s % 86_400) / 3600);
  return `${Math.floor(s / 86_400)}d${hours ? ` ${hours}h` : ""}`;
}

/** Seconds from `from` to `to` (ISO times), or undefined when either is not a time or it runs backwards. */
export function secondsBetween(from: string | undefined, to: string): number | undefined {
  if (!from) return undefined;
  const start = Date.parse(from);
  const end = Date.parse(to);
  return Number.isNaN(start) || Number.isNaN(end) || end < start ? undefined : (end - start) / 1000;
}

/**
 * mrkdwn without its bold and code marks, for the `text` fallback: Slack parses that too, so &, < and > stay
 * escaped there.
 */
export function unmarked(mrkdwn: string): string {
  return mrkdwn.replace(/[`*]/g, "");
}

/** mrkdwn as plain text, for the terminal. */
export function plain(mrkdwn: string): string {
  return mrkdwn.replace(/[`*]/g, "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}
