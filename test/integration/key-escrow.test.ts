import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { beforeAll, describe, expect, it } from "vitest";
import { DynamoKeyring } from "../../shared/catalog/dynamo/keyring";
import { parseShareFile, type ShareFile, serializeShareFile, withChecksum } from "../../shared/keys/escrow";
import { masterKeyFingerprint } from "../../shared/keys/master-key";
import { SetWriter } from "../support/dumpsets";
import { type CliResult, startTestStack, type TestStack } from "../support/stack";

let stack: TestStack;
let secrets: SecretsManagerClient;
let secretName: string;
let workspace: string;

/** The key as the application would have it: with the keyId it writes into master-key-id.txt. */
const original = { key: randomBytes(32).toString("base64"), keyId: "codebolt-2025-06" };
const originalString = JSON.stringify(original);

interface SplitJson {
  keyId: string;
  fingerprint: string;
  shares: number;
  threshold: number;
  files: string[];
}

beforeAll(async () => {
  stack = await startTestStack("key-escrow");
  secretName = stack.deployment.masterKeySecret as string;
  secrets = new SecretsManagerClient({});
  await secrets.send(new PutSecretValueCommand({ SecretId: secretName, SecretString: originalString }));
  workspace = await mkdtemp(path.join(tmpdir(), "restorable-key-escrow-"));
});

function key(args: string[]): Promise<CliResult> {
  return stack.cli(["key", ...args], { env: { RESTORABLE_MASTER_KEY_SECRET: secretName }, cwd: workspace });
}

async function currentSecret(): Promise<{ string: string; versionId: string }> {
  const current = await secrets.send(new GetSecretValueCommand({ SecretId: secretName }));
  return { string: current.SecretString as string, versionId: current.VersionId as string };
}

function expectNoKeyMaterial(result: CliResult): void {
  for (const output of [result.stdout, result.stderr]) {
    expect(output).not.toContain(original.key);
    expect(output).not.toContain(original.key.slice(0, 16));
  }
}

async function split(directory: string): Promise<SplitJson> {
  const result = await key(["split", "--shares", "5", "--threshold", "3", "--out", directory, "--json"]);
  expect(result.code, result.stderr).toBe(0);
  expectNoKeyMaterial(result);
  return JSON.parse(result.stdout) as SplitJson;
}

describe("master key escrow through the CLI", () => {
  it("splits the key into share files and stores it back from 3 of them as a new version", async () => {
    const report = await split(path.join(workspace, "round-trip"));
    expect(report).toMatchObject({
      keyId: "codebolt-2025-06",
      fingerprint: masterKeyFingerprint(original.key),
      shares: 5,
      threshold: 3,
    });
    expect(report.files).toHaveLength(5);
    for (const file of report.files) {
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(await readFile(file, "utf-8")).not.toContain(original.key);
    }

    // The key is lost from Secrets Manager (overwritten by mistake, say): the administrators bring 3 shares.
    await secrets.send(
      new PutSecretValueCommand({ SecretId: secretName, SecretString: JSON.stringify({ key: "x".repeat(44) }) }),
    );
    const overwritten = await currentSecret();
    // Registered since, the catalog holds only the wrong key, so a set naming the real one arrives flagged.
    await new DynamoKeyring(stack.dynamo, stack.deployment.table).replace([
      {
        keyId: masterKeyFingerprint("x".repeat(44)),
        fingerprint: masterKeyFingerprint("x".repeat(44)),
        versionId: overwritten.versionId,
        labels: ["AWSCURRENT"],
        registeredAt: new Date().toISOString(),
      },
    ]);
    const flagged = new SetWriter(stack.s3, stack.deployment.bucket, "escrowed", { "main.dump": "PGDMP escrowed" });
    await flagged.putAllComponents();
    await flagged.putManifest(flagged.manifest({ master_key_id: "codebolt-2025-06" }));
    await stack.pump.drain();
    expect(await stack.catalog.getBackup(flagged.setId)).toMatchObject({ masterKeyHeld: false });

    const [first, , third, , fifth] = report.files as [string, string, string, string, string];
    const combined = await key(["combine", first, third, fifth, "--store"]);
    expect(combined.code, combined.stderr).toBe(0);
    // Stored back and registered, the key is held again: the set naming it is no longer flagged.
    expect(combined.stdout).toContain("1 set flagged for key codebolt-2025-06 is no longer flagged.");
    expect(await stack.catalog.getBackup(flagged.setId)).toMatchObject({ masterKeyHeld: true, statusReason: null });
    expectNoKeyMaterial(combined);
    expect(combined.stdout).toContain(
      `The 3 shares rebuild the master key codebolt-2025-06 (fingerprint ${report.fingerprint} ok).`,
    );
    expect(combined.stdout).toContain(`Stored it in ${secretName} as a new version`);

    const restored = await currentSecret();
    expect(restored.string).toBe(originalString);
    expect(restored.versionId).not.toBe(overwritten.versionId);
    expect(combined.stdout).toContain(restored.versionId);
  });

  it("only reports, writes a 0600 file or prints the key when asked to", async () => {
    const report = await split(path.join(workspace, "outputs"));
    const before = await currentSecret();

    const checked = await key(["combine", ...report.files.slice(0, 3)]);
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout.trim()).toBe(
      `The 3 shares rebuild the master key codebolt-2025-06 (fingerprint ${report.fingerprint} ok).`,
    );

    const out = path.join(workspace, "outputs", "master-key.json");
    const printed = await key(["combine", ...report.files.slice(2), "--out", out, "--print"]);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toBe(`${original.key}\n`);
    expect(printed.stderr).toContain(`Wrote the master key secret to ${out} (mode 0600).`);
    expect(await readFile(out, "utf-8")).toBe(originalString);
    expect((await stat(out)).mode & 0o777).toBe(0o600);

    expect((await currentSecret()).versionId).toBe(before.versionId);
  });

  it("refuses to overwrite existing share files", async () => {
    const directory = path.join(workspace, "twice");
    const report = await split(directory);
    const kept = await Promise.all(report.files.map((file) => readFile(file, "utf-8")));
    const again = await key(["split", "--shares", "5", "--threshold", "3", "--out", directory]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already exist; nothing was written");
    expect(await Promise.all(report.files.map((file) => readFile(file, "utf-8")))).toEqual(kept);
  });

  it("fails with exit code 2 and says how many shares are needed when given threshold - 1", async () => {
    const report = await split(path.join(workspace, "too-few"));
    const result = await key(["combine", ...report.files.slice(0, 2), "--store"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("restorable: 3 shares are needed to rebuild the master key codebolt-2025-06, 2 given\n");
    expect(result.stdout).toBe("");
  });

  it("names a tampered share and stores nothing", async () => {
    const report = await split(path.join(workspace, "tampered"));
    const victim = report.files[1] as string;
    const file = parseShareFile(await readFile(victim, "utf-8"), victim);
    const point = Buffer.from(file.share, "base64");
    point[12] = (point[12] ?? 0) ^ 0x40;
    const { checksum: _, ...content } = file;
    const forged: ShareFile = withChecksum({ ...content, share: point.toString("base64") });
    await writeFile(victim, serializeShareFile(forged));
    const before = await currentSecret();

    const result = await key(["combine", ...report.files, "--store"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`restorable: share 2 (${victim}) disagrees with the others`);
    expectNoKeyMaterial(result);
    expect(await currentSecret()).toEqual(before);

    const withoutIt = await key(["combine", ...report.files.filter((f) => f !== victim)]);
    expect(withoutIt.code, withoutIt.stderr).toBe(0);
  });

  it("detects an accidentally damaged share file on its own", async () => {
    const report = await split(path.join(workspace, "damaged"));
    const victim = report.files[0] as string;
    const text = await readFile(victim, "utf-8");
    await writeFile(victim, text.replace('"threshold": 3', '"threshold": 2'));
    const result = await key(["combine", ...report.files]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`restorable: ${victim} is damaged: its checksum does not match its content`);
  });
});
