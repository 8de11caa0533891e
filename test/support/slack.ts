import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Block, KnownBlock } from "@slack/types";
import { expect } from "vitest";
import { blockKitProblems, SLACK_LIMITS } from "../../shared/notify/limits";
import type { SlackMessage } from "../../shared/notify/ports";

/** What the fake endpoint answers, request by request; past the script, 200 "ok". */
export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface ReceivedRequest {
  at: number;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/**
 * A Slack incoming-webhook endpoint on loopback (node:http): records every request with the status it was
 * answered, answers from a script (429 with Retry-After, 500, …), and can go down and come back on the same
 * port, as Slack does in an outage.
 */
export class FakeSlack {
  readonly requests: ReceivedRequest[] = [];
  private script: ScriptedResponse[] = [];
  private server: Server | undefined;
  private port = 0;

  async start(port = 0): Promise<this> {
    const server = createServer((request, response) => {
      let body = "";
      request.setEncoding("utf-8");
      request.on("data", (chunk: string) => (body += chunk));
      request.on("end", () => {
        const answer = this.script.shift() ?? { status: 200, body: "ok" };
        this.requests.push({
          at: Date.now(),
          path: request.url ?? "",
          headers: request.headers,
          body,
          status: answer.status,
        });
        response.writeHead(answer.status, { "content-type": "text/plain", ...answer.headers });
        response.end(answer.body ?? (answer.status === 200 ? "ok" : "error"));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** The webhook URL (a secret: it must appear in no payload and no log). */
  get url(): string {
    return `http://127.0.0.1:${this.port}/services/T0RESTORE/B0TEST/leak-canary-webhook-9f3k2`;
  }

  respond(...responses: ScriptedResponse[]): void {
    this.script.push(...responses);
  }

  /** Down: the port refuses connections until `reopen`. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async reopen(): Promise<void> {
    await this.start(this.port);
  }

  /** The messages Slack accepted (answered 200), parsed. */
  accepted(): SlackMessage[] {
    return this.requests.filter((r) => r.status === 200).map((r) => JSON.parse(r.body) as SlackMessage);
  }

  reset(): void {
    this.requests.length = 0;
    this.script = [];
  }
}

/** Block Kit's block types, as @slack/types names them; ours must be among them. */
const KNOWN_BLOCK_TYPES: ReadonlySet<KnownBlock["type"]> = new Set<KnownBlock["type"]>([
  "actions",
  "context",
  "divider",
  "file",
  "header",
  "image",
  "input",
  "markdown",
  "rich_text",
  "section",
  "video",
]);

/** Anything that looks like a secret: presigned URLs, webhook URLs, tokens, passwords, keys. */
const SECRET_PATTERNS: RegExp[] = [
  /X-Amz-Signature=(?!\[removed\])/i,
  /X-Amz-Credential=(?!\[removed\])/i,
  /X-Amz-Security-Token=(?!\[removed\])/i,
  /[?&]Signature=(?!\[removed\])/i,
  /hooks\.slack\.com\/(services|workflows|triggers)\//i,
  /\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\//,
  /\bxox[abposre]-[A-Za-z0-9-]+/,
  /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /password=(?!\[removed\])/i,
  /:\/\/[^\s:/@]+:(?!\[removed\])[^\s@/]+@/,
  /leak-canary/i,
];

/** The secrets found in `text`, by pattern (empty: clean). */
export function secretsIn(text: string, known: string[] = []): string[] {
  return [
    ...SECRET_PATTERNS.filter((pattern) => pattern.test(text)).map(String),
    ...known.filter((secret) => text.includes(secret)),
  ];
}

/**
 * A payload as Slack gets it: Block Kit's structure (types from @slack/types, limits: 50 blocks, 3,000
 * characters a section, 150 a header, 10 fields, a `text` fallback) and not one secret.
 */
export function expectValidPayload(payload: SlackMessage | string, known: string[] = []): SlackMessage {
  const text = typeof payload === "string" ? payload : JSON.stringify(payload);
  const message = JSON.parse(text) as { text: unknown; blocks: (KnownBlock | Block)[] };
  expect(Object.keys(message).sort(), "nothing but text and blocks").toEqual(["blocks", "text"]);
  expect(typeof message.text, "text fallback").toBe("string");
  expect((message.text as string).length).toBeGreaterThan(0);
  expect(Array.isArray(message.blocks)).toBe(true);
  expect(message.blocks.length).toBeGreaterThan(0);
  expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocksPerMessage);
  for (const block of message.blocks) {
    expect(KNOWN_BLOCK_TYPES.has(block.type as KnownBlock["type"]), block.type).toBe(true);
    if (block.type === "section") {
      const section = block as Extract<KnownBlock, { type: "section" }>;
      if (section.text) expect(section.text.text.length).toBeLessThanOrEqual(3000);
      expect(section.text !== undefined || (section.fields?.length ?? 0) > 0).toBe(true);
    }
    if (block.type === "header") {
      const header = block as Extract<KnownBlock, { type: "header" }>;
      expect(header.text.type).toBe("plain_text");
      expect(header.text.text.length).toBeLessThanOrEqual(150);
    }
  }
  expect(blockKitProblems(message as SlackMessage)).toEqual([]);
  expect(secretsIn(text, known), "secrets in the payload").toEqual([]);
  return message as SlackMessage;
}
