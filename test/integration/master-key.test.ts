import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { beforeAll, describe, expect, it } from "vitest";
import { openCatalog } from "../../shared/catalog/dynamo/open";
import type { DumpSetEntry } from "../../shared/catalog/entry";
import { masterKeyFingerprint } from "../../shared/keys/master-key";
import { SetWriter } from "../support/dumpsets";
import { REGION, startTestStack, type TestStack } from "../support/stack";

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack("masterkey");
});

describe("the master key the service holds", () => {
  it("flags at ingest a set whose master key id the service does not hold, and keeps a replaced key held", async () => {
    const registered = await stack.cli(["key", "register", "--json"]);
    expect(registered.code, registered.stderr).toBe(0);
    const [generated] = JSON.parse(registered.stdout).held as {
      keyId: string;
      fingerprint: string;
      labels: string[];
    }[];
    expect(generated?.keyId).toMatch(/^mk-[0-9a-f]{16}$/);
    expect(generated?.labels).toContain("AWSCURRENT");

    // The application's own key, imported with the id it writes into master-key-id.txt.
    const directory = await mkdtemp(path.join(tmpdir(), "restorable-key-"));
    await writeFile(path.join(directory, "master.key"), "c2VjcmV0LWtleS1tYXRlcmlhbC1vZi10aGUtYXBwbGljYXRpb24=\n");
    const imported = await stack.cli([
      "key",
      "import",
      "--key-file",
      path.join(directory, "master.key"),
      "--key-id",
      "mk-2025-01",
      "--json",
    ]);
    expect(imported.code, imported.stderr).toBe(0);
    const held = JSON.parse(imported.stdout).held as { keyId: string }[];
    expect(held.map((key) => key.keyId).sort()).toEqual([generated?.keyId, "mk-2025-01"].sort());
    expect(imported.stdout).not.toContain("c2VjcmV0LWtleS1tYXRlcmlhbC1vZi10aGUtYXBwbGljYXRpb24=");

    const current = new SetWriter(stack.s3, stack.deployment.bucket, "keyed", { "main.dump": "PGDMP a" });
    const previous = new SetWriter(
      stack.s3,
      stack.deployment.bucket,
      "keyed",
      { "main.dump": "PGDMP b" },
      new Date("2025-05-01T00:00:00Z"),
    );
    const orphaned = new SetWriter(
      stack.s3,
      stack.deployment.bucket,
      "keyed",
      { "main.dump": "PGDMP c" },
      new Date("2025-04-01T00:00:00Z"),
    );
    for (const [set, keyId] of [
      [current, "mk-2025-01"],
      [previous, generated?.keyId],
      [orphaned, "mk-2019-lost"],
    ] as const) {
      await set.putAllComponents();
      await set.putManifest(set.manifest({ master_key_id: keyId ?? null }));
    }
    await stack.pump.drain();

    expect(await stack.catalog.getBackup(current.setId)).toMatchObject({
      status: "COMPLETE",
      masterKeyHeld: true,
      statusReason: null,
    });
    expect(await stack.catalog.getBackup(previous.setId)).toMatchObject({ masterKeyHeld: true });
    const flagged = (await stack.catalog.getBackup(orphaned.setId)) as DumpSetEntry;
    expect(flagged).toMatchObject({
      status: "COMPLETE",
      masterKeyHeld: false,
      statusReason: "master key mk-2019-lost is not held by the service: the set cannot be restored usefully",
    });
    expect(masterKeyFingerprint("c2VjcmV0LWtleS1tYXRlcmlhbC1vZi10aGUtYXBwbGljYXRpb24=")).not.toBe("mk-2025-01");
  });

  it("clears the flag of sets naming a key once it is held, and importing the current key again adds no version", async () => {
    const secrets = new SecretsManagerClient({ region: REGION });
    const secretName = stack.deployment.masterKeySecret as string;
    const versions = async () => {
      const listed = await secrets.send(
        new ListSecretVersionIdsCommand({ SecretId: secretName, IncludeDeprecated: true }),
      );
      return (listed.Versions ?? []).map((version) => ({ id: version.VersionId, labels: version.VersionStages ?? [] }));
    };
    const flaggedSet = async (keyId: string, body: string) => {
      const set = new SetWriter(stack.s3, stack.deployment.bucket, "late-keys", { "main.dump": body });
      await set.putAllComponents();
      await set.putManifest(set.manifest({ master_key_id: keyId }));
      await stack.pump.drain();
      expect(await stack.catalog.getBackup(set.setId)).toMatchObject({
        status: "COMPLETE",
        masterKeyHeld: false,
        statusReason: `master key ${keyId} is not held by the service: the set cannot be restored usefully`,
      });
      return set;
    };

    // Sets arrive naming a key the service does not hold yet; importing it clears their flag.
    const first = await flaggedSet("mk-2026-late", "PGDMP late 1");
    const second = await flaggedSet("mk-2026-late", "PGDMP late 2");
    // One alert for the source and key, not one per set.
    const alerts = (await openCatalog(stack.dynamo, stack.deployment.table).alerts.recent(100)).filter(
      (alert) => alert.kind === "master-key-not-held" && alert.subject === "late-keys",
    );
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.details).toMatchObject({ masterKeyId: "mk-2026-late", setId: first.setId });
    const directory = await mkdtemp(path.join(tmpdir(), "restorable-key-"));
    const keyFile = path.join(directory, "late.key");
    await writeFile(keyFile, "bGF0ZS1rZXktb2YtdGhlLWFwcGxpY2F0aW9u\n");
    const imported = await stack.cli(["key", "import", "--key-file", keyFile, "--key-id", "mk-2026-late"]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain("Imported mk-2026-late as the current master key");
    expect(imported.stdout).toContain("2 sets flagged for key mk-2026-late are no longer flagged.");
    for (const set of [first, second]) {
      expect(await stack.catalog.getBackup(set.setId)).toMatchObject({
        status: "COMPLETE",
        masterKeyHeld: true,
        statusReason: null,
      });
    }

    // The same key again: nothing imported, no version added, the previous key keeps its label.
    const before = await versions();
    const previous = before.find((version) => version.labels.includes("AWSPREVIOUS"));
    expect(previous).toBeDefined();
    const again = await stack.cli(["key", "import", "--key-file", keyFile, "--key-id", "mk-2026-late"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("mk-2026-late is already the current master key; nothing imported.");
    const asJson = await stack.cli(["key", "import", "--key-file", keyFile, "--key-id", "mk-2026-late", "--json"]);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ keyId: "mk-2026-late", imported: false, cleared: [] });
    const after = await versions();
    expect(after).toHaveLength(before.length);
    expect(after.find((version) => version.id === previous?.id)?.labels).toContain("AWSPREVIOUS");

    // A key put into the secret some other way is taken up by `key register`, which clears its sets too.
    const rotated = await flaggedSet("mk-rotated", "PGDMP rotated");
    await secrets.send(
      new PutSecretValueCommand({
        SecretId: secretName,
        SecretString: JSON.stringify({ key: "cm90YXRlZC1rZXk=", keyId: "mk-rotated" }),
      }),
    );
    const registered = await stack.cli(["key", "register", "--json"]);
    expect(registered.code, registered.stderr).toBe(0);
    expect(JSON.parse(registered.stdout).cleared).toEqual([{ id: rotated.setId, masterKeyId: "mk-rotated" }]);
    expect(await stack.catalog.getBackup(rotated.setId)).toMatchObject({ masterKeyHeld: true, statusReason: null });
  });
});
