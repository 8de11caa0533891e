import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  costSection,
  loadInputs,
  monthlyCost,
  README_END,
  README_FILE,
  README_START,
  TARGET,
  tableRow,
} from "../../scripts/cost";
import { capacityUnits, identify, s3Operation, s3PriceClass } from "../../scripts/counting-proxy";

const readmeSection = () => {
  const readme = readFileSync(README_FILE, "utf-8");
  return readme.slice(readme.indexOf(README_START), readme.indexOf(README_END) + README_END.length);
};

describe("the README's cost table (What it costs)", () => {
  it("has the row of 1,000 sources that scripts/cost.ts computes from the measured requests and the prices", () => {
    const { measured, prices } = loadInputs();
    const row = tableRow(monthlyCost(measured, prices, TARGET.sources));
    expect(row.startsWith("| 1,000 |")).toBe(true);
    expect(readmeSection().split("\n")).toContain(row);
  });

  it("is the section the script writes, the verdict on the target included", () => {
    const { measured, prices } = loadInputs();
    expect(readmeSection()).toBe(costSection(measured, prices));
  });

  it("grows with the number of sources, and a drill instance costs what its minutes cost", () => {
    const { measured, prices } = loadInputs();
    const [few, many] = [10, 10_000].map((sources) => monthlyCost(measured, prices, sources));
    expect(many?.controlPlane).toBeGreaterThan(few?.controlPlane ?? Number.POSITIVE_INFINITY);
    expect(few?.total).toBeCloseTo((few?.controlPlane ?? 0) + (few?.drillInstances ?? 0), 10);
    // t4g.large at its hourly price for 10 minutes, 10 drills, plus 50 GiB of gp3 for those minutes.
    const hourly = prices.ec2.perHour["t4g.large"] as number;
    expect(few?.drillInstances).toBeCloseTo(10 * (10 / 60) * (hourly + (50 * prices.ebs.perGp3GbMonth) / 730), 10);
  });
});

describe("the counting proxy's reading of requests", () => {
  const request = (method: string, url: string, headers: Record<string, string> = {}) =>
    identify(
      {
        method,
        url,
        headers: {
          authorization: "AWS4-HMAC-SHA256 Credential=host/20250101/us-east-1/s3/aws4_request, SignedHeaders=host",
          ...headers,
        },
      },
      Buffer.alloc(0),
    );

  it("names S3 operations as S3 bills them", () => {
    expect(request("PUT", "/b/sets/s/x/main.dump")).toEqual({ caller: "host", service: "s3", operation: "PutObject" });
    expect(request("PUT", "/b/k?partNumber=2&uploadId=u").operation).toBe("UploadPart");
    expect(request("POST", "/b/k?uploads").operation).toBe("CreateMultipartUpload");
    expect(request("PUT", "/b/k", { "x-amz-copy-source": "b/k?versionId=v" }).operation).toBe("CopyObject");
    expect(request("GET", "/b?versions&prefix=sets/").operation).toBe("ListObjectVersions");
    expect(request("GET", "/b?list-type=2&prefix=incoming/").operation).toBe("ListObjectsV2");
    expect(request("HEAD", "/b/k").operation).toBe("HeadObject");
    expect(request("DELETE", "/b/k?uploadId=u").operation).toBe("AbortMultipartUpload");
    expect(s3Operation("GET", new URL("http://x/b?lifecycle"), {})).toBe("GetBucketLifecycle");
    expect(["PutObject", "UploadPart", "ListObjectVersions", "CompleteMultipartUpload"].map(s3PriceClass)).toEqual([
      "write",
      "write",
      "write",
      "write",
    ]);
    expect(["GetObject", "HeadObject", "DeleteObject"].map(s3PriceClass)).toEqual(["read", "read", "free"]);
  });

  it("names JSON-protocol operations by their target, and query-protocol ones by their Action", () => {
    const dynamo = identify(
      {
        method: "POST",
        url: "/",
        headers: {
          authorization: "AWS4-HMAC-SHA256 Credential=service/20250101/us-east-1/dynamodb/aws4_request",
          "x-amz-target": "DynamoDB_20120810.Query",
        },
      },
      Buffer.alloc(0),
    );
    expect(dynamo).toEqual({ caller: "service", service: "dynamodb", operation: "Query" });
    const ec2 = identify(
      {
        method: "POST",
        url: "/",
        headers: { authorization: "AWS4-HMAC-SHA256 Credential=service/20250101/us-east-1/ec2/aws4_request" },
      },
      Buffer.from("Action=DescribeInstances&Version=2016-11-15"),
    );
    expect(ec2.operation).toBe("DescribeInstances");
  });

  it("counts DynamoDB request units from the size of what was written or read, index writes included", () => {
    const item = (bytes: number, indexed = false) => ({
      pk: { S: "x".repeat(bytes) },
      ...(indexed ? { gsi1pk: { S: "SOURCE#s" } } : {}),
    });
    const put = (value: object) => Buffer.from(JSON.stringify({ Item: value }));
    expect(capacityUnits("PutItem", put(item(100)), Buffer.from("{}"))).toEqual({ read: 0, write: 1 });
    expect(capacityUnits("PutItem", put(item(3000)), Buffer.from("{}"))).toEqual({ read: 0, write: 3 });
    // The timeline index is written too.
    expect(capacityUnits("PutItem", put(item(100, true)), Buffer.from("{}"))).toEqual({ read: 0, write: 2 });
    const answer = Buffer.from(JSON.stringify({ Items: [item(5000), item(5000)] }));
    expect(capacityUnits("Query", Buffer.from("{}"), answer)).toEqual({ read: 1.5, write: 0 });
    expect(capacityUnits("Query", Buffer.from('{"ConsistentRead":true}'), answer)).toEqual({ read: 3, write: 0 });
  });
});
