import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from "@aws-sdk/client-iam";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { localClients } from "../../cli/local/clients";
import { startLocalHandlers } from "../../cli/local/handlers";
import { type RunningEmulator, startEmulator } from "../../cli/local/moto";
import { provision, resourceNames } from "../../cli/local/provision";
import { openCatalog } from "../../shared/catalog/dynamo/open";
import type { Deployment } from "../../shared/contracts/deployment";
import { dumpSetHostStatements, policyDocument } from "../../shared/contracts/host-access";
import { silentLog } from "../../shared/log";
import { postgresAt } from "../support/postgres";
import { writeSeedBackup } from "../support/seed-backup";
import { REGION, runCli } from "../support/stack";

/**
 * An emulator of its own with IAM enforced after its first three requests, which make an
 * administrator; everything after is signed by the administrator or by the host.
 */
let emulator: RunningEmulator;
let deployment: Deployment & { endpoint: string };
let host: { accessKeyId: string; secretAccessKey: string };
let hostS3: S3Client;
const SOURCE = "locked-down";

async function user(iam: IAMClient, name: string, policy: object) {
  await iam.send(new CreateUserCommand({ UserName: name }));
  await iam.send(
    new PutUserPolicyCommand({ UserName: name, PolicyName: "access", PolicyDocument: JSON.stringify(policy) }),
  );
  const key = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
  return {
    accessKeyId: key.AccessKey?.AccessKeyId as string,
    secretAccessKey: key.AccessKey?.SecretAccessKey as string,
  };
}

beforeAll(async () => {
  emulator = await startEmulator({ environment: { INITIAL_NO_AUTH_ACTION_COUNT: "3" } });
  process.env.AWS_ENDPOINT_URL = emulator.endpoint;
  const admin = await user(
    new IAMClient({ region: REGION }),
    "administrator",
    policyDocument([{ Sid: "Everything", Effect: "Allow", Action: ["*"], Resource: ["*"] }]),
  );
  process.env.AWS_ACCESS_KEY_ID = admin.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = admin.secretAccessKey;
  deployment = { ...(await provision(resourceNames("iam"), REGION)), endpoint: emulator.endpoint };
  host = await user(
    new IAMClient({ region: REGION }),
    "codebolt-host",
    policyDocument(dumpSetHostStatements({ bucketArn: `arn:aws:s3:::${deployment.bucket}` }, SOURCE)),
  );
  hostS3 = new S3Client({ region: REGION, credentials: host });
});

afterAll(async () => {
  await emulator?.stop();
});

const denied = (call: Promise<unknown>) => expect(call).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });

describe("a host's credentials, with IAM enforced", () => {
  it("can push a set, but cannot delete it, overwrite its manifest, or read another source's prefix", async () => {
    const { directory } = await writeSeedBackup(postgresAt(inject("postgresPort")), { rows: 10 });
    const pushed = await runCli(["push", directory, "--source", SOURCE, "--json"], {
      env: {
        RESTORABLE_BUCKET: deployment.bucket,
        RESTORABLE_TABLE: deployment.table,
        RESTORABLE_REGION: REGION,
        RESTORABLE_ENDPOINT: deployment.endpoint,
        AWS_ACCESS_KEY_ID: host.accessKeyId,
        AWS_SECRET_ACCESS_KEY: host.secretAccessKey,
      },
    });
    expect(pushed.code, pushed.stderr).toBe(0);
    const { setId, manifestKey, components } = JSON.parse(pushed.stdout) as {
      setId: string;
      manifestKey: string;
      components: { key: string }[];
    };

    // The service (the administrator here) commits and indexes it.
    const clients = localClients({ region: REGION });
    await startLocalHandlers({ deployment, region: REGION, clients, log: silentLog, run: false }).pump.drain();
    const catalog = openCatalog(clients.dynamo, deployment.table).backups;
    expect((await catalog.getBackup(setId))?.status).toBe("COMPLETE");

    const Bucket = deployment.bucket;
    await denied(hostS3.send(new DeleteObjectCommand({ Bucket, Key: components[0]?.key })));
    await denied(hostS3.send(new DeleteObjectCommand({ Bucket, Key: manifestKey })));
    await denied(hostS3.send(new PutObjectCommand({ Bucket, Key: manifestKey, Body: "{}" })));
    await denied(hostS3.send(new PutObjectCommand({ Bucket, Key: manifestKey, Body: "{}", IfNoneMatch: "*" })));

    const admin = new S3Client({});
    const other = "sets/someone-else/20250101T000000Z-000000000000/main.dump";
    await admin.send(new PutObjectCommand({ Bucket, Key: other, Body: "PGDMP theirs" }));
    await denied(hostS3.send(new GetObjectCommand({ Bucket, Key: other })));
    await denied(hostS3.send(new PutObjectCommand({ Bucket, Key: other, Body: "overwrite" })));
    await denied(
      hostS3.send(
        new PutObjectCommand({
          Bucket,
          Key: "incoming/someone-else/20250101T000000Z-000000000000/restorable.manifest.json",
          Body: "{}",
        }),
      ),
    );
    await denied(hostS3.send(new GetObjectCommand({ Bucket, Key: "restic/workspaces/config" })));

    // And what it pushed is intact.
    const listed = await admin.send(new ListObjectsV2Command({ Bucket, Prefix: `sets/${SOURCE}/${setId}/` }));
    expect(listed.Contents?.map((o) => o.Key).sort()).toEqual([...components.map((c) => c.key), manifestKey].sort());
  });
});
