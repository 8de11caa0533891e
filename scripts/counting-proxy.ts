/**
 * An HTTP proxy in front of the emulator that counts every AWS request going through it, by caller, service
 * and operation, as AWS would bill them (scripts/measure-requests.ts). Everything that talks to AWS — the
 * host's `restorable push`, the handlers, the drill agent's presigned downloads — is pointed at the proxy.
 *
 * DynamoDB bills capacity units, not requests: the proxy sizes what each request read or wrote (the items'
 * DynamoDB JSON, a little larger than DynamoDB's own accounting, so the estimate errs high) and counts read
 * and write request units as on-demand pricing does, index writes included.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** Who made a request, from the access key its signature names (each process gets its own key). */
export type Caller = string;

export interface Tally {
  /** `<service>:<operation>` → requests. */
  requests: Record<string, number>;
  dynamodb: { readUnits: number; writeUnits: number };
}

export const emptyTally = (): Tally => ({ requests: {}, dynamodb: { readUnits: 0, writeUnits: 0 } });

export interface CountingProxy {
  endpoint: string;
  /** Requests since the last `take()`, by caller. */
  take(): Record<Caller, Tally>;
  close(): Promise<void>;
}

/** The catalog table's indexes: a write to an item that carries an index's partition key writes the index too. */
const INDEX_PARTITION_KEYS = ["gsi1pk", "gsi2pk"];

/** Starts a proxy forwarding to `target` (the emulator's endpoint). */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  let tallies: Record<Caller, Tally> = {};
  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => {
      const body = Buffer.concat(chunks);
      const call = identify(incoming, body);
      // DynamoDB: ask for the item images we need to size a write, and take them out of the answer again.
      const sizing = call.service === "dynamodb" ? withItemImages(call.operation, body) : { body, added: null };
      const forwarded = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: incoming.method,
          path: incoming.url,
          headers: forwardedHeaders(incoming.headers, sizing.body.length),
        },
        (answer) => {
          const answerChunks: Buffer[] = [];
          answer.on("data", (chunk: Buffer) => answerChunks.push(chunk));
          answer.on("end", () => {
            let answerBody: Buffer = Buffer.concat(answerChunks);
            const tally = tallies[call.caller] ?? emptyTally();
            tallies[call.caller] = tally;
            tally.requests[`${call.service}:${call.operation}`] =
              (tally.requests[`${call.service}:${call.operation}`] ?? 0) + 1;
            if (call.service === "dynamodb" && (answer.statusCode ?? 500) < 300) {
              const units = capacityUnits(call.operation, sizing.body, answerBody);
              tally.dynamodb.readUnits += units.read;
              tally.dynamodb.writeUnits += units.write;
              if (sizing.added) answerBody = withoutAdded(answerBody, sizing.added);
            } else if (call.service === "dynamodb" && answerBody.includes("ConditionalCheckFailed")) {
              // A refused conditional write is still a write.
              tally.dynamodb.writeUnits += 1;
            }
            const headers = { ...answer.headers };
            if (sizing.added) {
              headers["content-length"] = String(answerBody.length);
              delete headers["x-amz-crc32"];
            }
            outgoing.writeHead(answer.statusCode ?? 500, headers);
            outgoing.end(answerBody);
          });
        },
      );
      forwarded.on("error", (error) => {
        outgoing.writeHead(502);
        outgoing.end(String(error));
      });
      forwarded.end(sizing.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    take() {
      const taken = tallies;
      tallies = {};
      return taken;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The request as received, its body now whole (no chunked encoding, no waiting for 100-continue). */
function forwardedHeaders(headers: IncomingMessage["headers"], length: number): IncomingMessage["headers"] {
  const forwarded = { ...headers, "content-length": String(length) };
  delete forwarded["transfer-encoding"];
  delete forwarded.expect;
  return forwarded;
}

/** Caller, service and operation of one request, from its signature and its shape. */
export function identify(
  incoming: Pick<IncomingMessage, "method" | "url" | "headers">,
  body: Buffer,
): { caller: Caller; service: string; operation: string } {
  const url = new URL(incoming.url ?? "/", "http://proxy");
  const authorization = String(incoming.headers.authorization ?? "");
  const credential =
    /Credential=([^,\s]+)/.exec(authorization)?.[1] ?? url.searchParams.get("X-Amz-Credential") ?? "anonymous";
  const [caller = "anonymous", , , service = "unknown"] = credential.split("/");
  const target = incoming.headers["x-amz-target"];
  if (typeof target === "string") return { caller, service, operation: target.split(".").pop() ?? target };
  if (service === "s3")
    return { caller, service, operation: s3Operation(incoming.method ?? "GET", url, incoming.headers) };
  const action =
    url.searchParams.get("Action") ?? new URLSearchParams(body.toString("utf-8")).get("Action") ?? "unknown";
  return { caller, service, operation: action };
}

/** S3's REST API: the operation from the method, whether there is a key, and the subresource. */
export function s3Operation(method: string, url: URL, headers: IncomingMessage["headers"]): string {
  const [, , ...key] = url.pathname.split("/");
  const hasKey = key.join("/").length > 0;
  const q = url.searchParams;
  const sub = ["tagging", "versioning", "lifecycle", "encryption", "policy", "notification", "publicAccessBlock"].find(
    (name) => q.has(name),
  );
  const subName = sub ? sub.charAt(0).toUpperCase() + sub.slice(1) : "";
  switch (method) {
    case "PUT":
      if (sub) return hasKey ? `PutObject${subName}` : `PutBucket${subName}`;
      if (q.has("partNumber")) return headers["x-amz-copy-source"] ? "UploadPartCopy" : "UploadPart";
      if (headers["x-amz-copy-source"]) return "CopyObject";
      return hasKey ? "PutObject" : "CreateBucket";
    case "POST":
      if (q.has("uploads")) return "CreateMultipartUpload";
      if (q.has("uploadId")) return "CompleteMultipartUpload";
      if (q.has("delete")) return "DeleteObjects";
      return "PostObject";
    case "GET":
      if (sub) return hasKey ? `GetObject${subName}` : `GetBucket${subName}`;
      if (hasKey) return q.has("uploadId") ? "ListParts" : "GetObject";
      if (q.has("versions")) return "ListObjectVersions";
      if (q.has("uploads")) return "ListMultipartUploads";
      if (q.has("location")) return "GetBucketLocation";
      return q.get("list-type") === "2" ? "ListObjectsV2" : "ListObjects";
    case "HEAD":
      return hasKey ? "HeadObject" : "HeadBucket";
    case "DELETE":
      if (sub) return hasKey ? `DeleteObject${subName}` : `DeleteBucket${subName}`;
      if (q.has("uploadId")) return "AbortMultipartUpload";
      return hasKey ? "DeleteObject" : "DeleteBucket";
    default:
      return method;
  }
}

/** S3's request price classes (S3 Standard): DELETE and abort are free, PUT/COPY/POST/LIST one price, the rest another. */
export function s3PriceClass(operation: string): "write" | "read" | "free" {
  if (operation === "AbortMultipartUpload" || operation.startsWith("Delete")) return "free";
  if (/^(Put|Copy|Post|Create|Complete|Upload|List)/.test(operation)) return "write";
  return "read";
}

type Json = Record<string, unknown>;

/** The bytes of an item as sent or returned (DynamoDB JSON): at least DynamoDB's own size of it. */
const itemBytes = (item: unknown) => (item ? Buffer.byteLength(JSON.stringify(item)) : 0);
const writeUnitsOf = (item: unknown) => {
  const size = itemBytes(item);
  const indexes = item ? INDEX_PARTITION_KEYS.filter((key) => key in (item as Json)).length : 0;
  return Math.max(1, Math.ceil(size / 1024)) * (1 + indexes);
};
const readUnitsOf = (bytes: number, consistent: boolean) =>
  Math.max(1, Math.ceil(bytes / 4096)) * (consistent ? 1 : 0.5);

/** UpdateItem and DeleteItem: ask for the item's image (to size the write), unless the caller asked already. */
function withItemImages(operation: string, body: Buffer): { body: Buffer; added: string | null } {
  if (operation !== "UpdateItem" && operation !== "DeleteItem") return { body, added: null };
  const request = JSON.parse(body.toString("utf-8")) as Json;
  if (request.ReturnValues && request.ReturnValues !== "NONE") return { body, added: null };
  request.ReturnValues = operation === "UpdateItem" ? "ALL_NEW" : "ALL_OLD";
  return { body: Buffer.from(JSON.stringify(request)), added: "Attributes" };
}

function withoutAdded(answer: Buffer, field: string): Buffer {
  const parsed = JSON.parse(answer.toString("utf-8")) as Json;
  delete parsed[field];
  return Buffer.from(JSON.stringify(parsed));
}

/** On-demand request units of one successful DynamoDB request, from what it wrote or read. */
export function capacityUnits(
  operation: string,
  requestBody: Buffer,
  answerBody: Buffer,
): { read: number; write: number } {
  const request = JSON.parse(requestBody.toString("utf-8") || "{}") as Json;
  const answer = JSON.parse(answerBody.toString("utf-8") || "{}") as Json;
  const consistent = request.ConsistentRead === true;
  switch (operation) {
    case "PutItem":
      return { read: 0, write: writeUnitsOf(request.Item) };
    case "UpdateItem":
    case "DeleteItem":
      return { read: 0, write: writeUnitsOf(answer.Attributes ?? {}) };
    case "GetItem":
      return { read: readUnitsOf(itemBytes(answer.Item), consistent), write: 0 };
    case "Query":
    case "Scan": {
      const items = (answer.Items as unknown[] | undefined) ?? [];
      return {
        read: readUnitsOf(
          items.reduce<number>((sum, item) => sum + itemBytes(item), 0),
          consistent,
        ),
        write: 0,
      };
    }
    case "BatchGetItem": {
      let read = 0;
      for (const items of Object.values((answer.Responses as Record<string, unknown[]>) ?? {})) {
        for (const item of items) read += readUnitsOf(itemBytes(item), false);
      }
      return { read, write: 0 };
    }
    case "BatchWriteItem": {
      let write = 0;
      for (const requests of Object.values((request.RequestItems as Record<string, Json[]>) ?? {})) {
        for (const entry of requests) write += writeUnitsOf((entry.PutRequest as Json | undefined)?.Item ?? {});
      }
      return { read: 0, write };
    }
    case "TransactWriteItems": {
      const items = (request.TransactItems as Json[] | undefined) ?? [];
      return {
        read: 0,
        write: items.reduce<number>(
          (sum, entry) => sum + 2 * writeUnitsOf((entry.Put as Json | undefined)?.Item ?? {}),
          0,
        ),
      };
    }
    case "TransactGetItems": {
      const items = (answer.Responses as Json[] | undefined) ?? [];
      return {
        read: items.reduce<number>((sum, entry) => sum + 2 * readUnitsOf(itemBytes(entry.Item), true), 0),
        write: 0,
      };
    }
    default:
      return { read: 0, write: 0 };
  }
}
