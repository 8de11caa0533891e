import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { DumpSetEntry } from "../../shared/catalog/entry";
import { masterKeyFingerprint } from "../../shared/keys/master-key";
import { SetWriter } from "../support/dumpsets";
import { startTestStack, type TestStack } from "../support/stack";

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
});
