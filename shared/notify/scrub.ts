import { clampMessage } from "./limits";
import type { SlackMessage } from "./ports";

/**
 * The last pass over everything the notifier sends or logs: alerts carry what other code wrote (error
 * messages, S3 keys, a drill's reason), so whatever slipped into one — a presigned URL, a webhook URL, a
 * token, a password in a connection string — is cut out here, whatever the message builder did.
 */
const PATTERNS: [RegExp, string][] = [
  // PEM private keys, whole.
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, "[private key removed]"],
  // Slack's webhook URLs are secrets in themselves.
  [/https?:\/\/hooks\.slack(?:-gov)?\.com\/[^\s<>|"'`]*/gi, "[webhook URL removed]"],
  // Presigned URLs (SigV4 or SigV2), and any URL whose query string carries a signature or credential.
  [
    /\b[a-z][a-z0-9+.-]*:\/\/[^\s<>|"'`?]*\?[^\s<>|"'`]*(?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|AWSAccessKeyId|sig)=[^\s<>|"'`]*/gi,
    "[presigned URL removed]",
  ],
  // The same parameters without their URL.
  [
    /\b(X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|AWSAccessKeyId)=[^&\s<>|"'`]+/gi,
    "$1=[removed]",
  ],
  // Slack tokens, AWS access key ids.
  [/\bxox[abposre]-[A-Za-z0-9-]+/g, "[token removed]"],
  [/\bxapp-[A-Za-z0-9-]+/g, "[token removed]"],
  [/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, "[access key removed]"],
  // user:password@ in a URL or a connection string.
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@<>|"'`]+):[^\s@/<>|"'`]+@/gi, "$1:[removed]@"],
  // password=…, PGPASSWORD=…, "token": "…", Authorization: Bearer …
  [
    /\b([A-Za-z_]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|master[_-]?key(?![_-]?id)))(\s*=\s*|"\s*:\s*")([^\s"&,;'`]+)/gi,
    "$1$2[removed]",
  ],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, "$1 [removed]"],
];

/** `text` with every secret-looking part, and each of `known` (the webhook URL, the token), removed. */
export function scrubText(text: string, known: readonly string[] = []): string {
  let scrubbed = text;
  for (const secret of known) {
    if (secret.length >= 8) scrubbed = scrubbed.split(secret).join("[secret removed]");
  }
  for (const [pattern, replacement] of PATTERNS) scrubbed = scrubbed.replace(pattern, replacement);
  return scrubbed;
}

/** Every string in `value` scrubbed, the structure kept. */
export function scrubDeep<T>(value: T, known: readonly string[] = []): T {
  if (typeof value === "string") return scrubText(value, known) as T;
  if (Array.isArray(value)) return value.map((item) => scrubDeep(item, known)) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, scrubDeep(item, known)])) as T;
  }
  return value;
}

/** What every sender sends: the message scrubbed, then cut to Slack's limits (cutting never brings a secret back). */
export function outgoing(message: SlackMessage, known: readonly string[] = []): SlackMessage {
  return clampMessage(scrubDeep(message, known));
}
