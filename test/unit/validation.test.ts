import { describe, expect, it } from "vitest";
import { z } from "zod";
import { describeError, RestorableError } from "../../shared/errors";
import { parseWith } from "../../shared/validation";

describe("describing a validation failure", () => {
  const SourceNameSchema = z.string().regex(/^[a-z]+$/, "a source name is lowercase letters");

  it("names the issue in one line, without the schema library's JSON dump of it", () => {
    let caught: unknown;
    try {
      parseWith(SourceNameSchema, "bad/name", "source name");
    } catch (error) {
      caught = error;
    }
    const described = describeError(caught);
    expect(described).toBe("invalid source name: a source name is lowercase letters");
    expect(described).not.toContain("\n");
  });

  it("still appends any other cause's message", () => {
    const error = new RestorableError("read-failed", "cannot read the key file k", { cause: new Error("ENOENT") });
    expect(describeError(error)).toBe("cannot read the key file k: ENOENT");
  });

  it.each([
    ["spawn pg_dump ENOENT; is PostgreSQL's client installed?", "spawn pg_dump ENOENT"],
    ["cannot find the deployment (Region is missing)", "Region is missing"],
    ['invalid duration "1x": not a duration', 'invalid duration "1x": not a duration'],
  ])("says a cause once when the message already quotes it: %s", (message, cause) => {
    expect(describeError(new RestorableError("x", message, { cause: new Error(cause) }))).toBe(message);
  });
});

describe("describing a failure inside a document", () => {
  it("names the field that is wrong", () => {
    const ManifestSchema = z.object({ components: z.array(z.object({ size: z.number() })) });
    expect(() => parseWith(ManifestSchema, { components: [{ size: "ten" }] }, "manifest")).toThrow(
      /^invalid manifest: components\.0\.size: /,
    );
  });
});
