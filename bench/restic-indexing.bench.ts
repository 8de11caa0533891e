import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { localClients } from "../cli/local/clients";
import { startLocalHandlers } from "../cli/local/handlers";
import { DynamoRepositoryStore } from "../shared/catalog/dynamo/repository-store";
import { silentLog } from "../shared/log";
import { decodeUnpackedFile, encodeUnpackedFile, resticFileId } from "../shared/restic/files";
import { openRepository } from "../shared/restic/keys";
import { resticRepositoryUrl, resticSecretName } from "../shared/restic/repository";
import { formatResticTime } from "../shared/restic/time";
import { makeResticFixture, restic } from "../test/support/restic";
import { type BenchContext, type Benchmark, round2 } from "./harness";

const SNAPSHOTS = Number(process.env.BENCH_SNAPSHOTS ?? 1000);
const PASSWORD = "bench password";

/**
 * Snapshots indexed per second by the real indexer handler (fetch, hash, decrypt, write to the
 * catalog) on the local stack, beside `restic snapshots --json` reading the same repository.
 */
export const resticIndexing: Benchmark = {
  name: "restic-indexing",
  async run(context: BenchContext) {
    const s3 = new S3Client({});
    const name = "bench";
    const access = {
      repository: resticRepositoryUrl({
        bucket: context.bucket,
        repository: name,
        region: "us-east-1",
        endpoint: context.endpoint,
      }),
      password: PASSWORD,
      env: {
        AWS_ACCESS_KEY_ID: "restorable-bench",
        AWS_SECRET_ACCESS_KEY: "restorable-bench",
        AWS_DEFAULT_REGION: "us-east-1",
      },
    };
    context.log("one real restic backup, then the same snapshot re-dated and re-encrypted into many ...");
    const fixture = await makeResticFixture({
      ...access,
      repositoryVersion: 2,
      backups: [{ host: "ws1", tags: ["workspace-id:abc"] }],
    });
    await fixture.cleanup();
    const prefix = `restic/${name}/`;
    const keyFiles = await listKeys(s3, context.bucket, `${prefix}keys/`);
    const masterKey = await openRepository(
      await Promise.all(keyFiles.map((key) => getBytes(s3, context.bucket, key))),
      PASSWORD,
    );
    const [snapshotKey] = await listKeys(s3, context.bucket, `${prefix}snapshots/`);
    const template = decodeUnpackedFile(masterKey, await getBytes(s3, context.bucket, snapshotKey as string)) as Record<
      string,
      unknown
    >;
    const start = Date.UTC(2024, 0, 1);
    for (let index = 1; index < SNAPSHOTS; index++) {
      const snapshot = {
        ...template,
        time: formatResticTime(new Date(start + index * 3_600_000)),
        hostname: `ws${index % 50}`,
        tags: [`workspace-id:w${index % 50}`, `workspace-owner:o${index % 7}`],
      };
      const stored = encodeUnpackedFile(masterKey, snapshot, 2);
      await s3.send(
        new PutObjectCommand({
          Bucket: context.bucket,
          Key: `${prefix}snapshots/${resticFileId(stored)}`,
          Body: stored,
        }),
      );
    }

    // The reference: restic itself listing and decrypting every snapshot file.
    const referenceStarted = performance.now();
    const listed = JSON.parse(await restic(["snapshots", "--json"], access)) as unknown[];
    const referenceSeconds = (performance.now() - referenceStarted) / 1000;
    if (listed.length !== SNAPSHOTS) throw new Error(`restic listed ${listed.length} snapshots, expected ${SNAPSHOTS}`);

    // Register the repository, then let the real handler index every queued snapshot event.
    await new SecretsManagerClient({}).send(
      new CreateSecretCommand({ Name: resticSecretName(context.bucket, name), SecretString: PASSWORD }),
    );
    await new DynamoRepositoryStore(new DynamoDBClient({}), context.table).register({
      name,
      secretName: resticSecretName(context.bucket, name),
      groupBy: ["host", "tags"],
      verifySlices: 30,
      createdAt: new Date().toISOString(),
      health: null,
      verification: null,
    });
    process.env.POWERTOOLS_LOG_LEVEL = "SILENT";
    process.env.POWERTOOLS_METRICS_DISABLED = "true";
    const { pump } = startLocalHandlers({
      deployment: context.deployment,
      region: "us-east-1",
      clients: localClients({ endpoint: context.endpoint, region: "us-east-1" }),
      log: silentLog,
      run: false,
    });
    context.log(`indexing ${SNAPSHOTS} snapshots through the queue ...`);
    const indexStarted = performance.now();
    await pump.drain();
    const indexSeconds = (performance.now() - indexStarted) / 1000;

    return [
      {
        name: `restic snapshots indexed per second (${SNAPSHOTS} snapshots, local stack)`,
        value: round2(SNAPSHOTS / indexSeconds),
        unit: "snapshots/s",
        reference: {
          name: "restic snapshots --json on the same repository",
          value: round2(SNAPSHOTS / referenceSeconds),
          unit: "snapshots/s",
        },
        ratio: round2(referenceSeconds / indexSeconds),
        target: "reported beside restic",
        met: true,
      },
    ];
  },
};

async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((object) => object.Key as string);
}

async function getBytes(s3: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await object.Body?.transformToByteArray()) ?? new Uint8Array();
}
