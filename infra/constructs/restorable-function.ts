import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import { Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Architecture, LoggingFormat, Runtime } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface RestorableFunctionProps {
  /** File name under functions/, without extension. */
  handler: string;
  environment?: Record<string, string>;
  timeout?: Duration;
  memorySize?: number;
  description: string;
}

/**
 * The one way this project makes a Lambda: current Node.js on ARM, JSON logs kept for 90 days, source
 * maps, bundled locally by esbuild (no Docker) with the AWS SDK included so that the code runs against
 * the SDK version it was tested with. Its role starts empty except for writing its own log group:
 * everything else comes from explicit grants.
 */
export class RestorableFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: RestorableFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
      description: `Runs ${props.handler}`,
    });
    logGroup.grantWrite(role);
    super(scope, id, {
      role,
      entry: path.join(repositoryRoot, "functions", `${props.handler}.ts`),
      handler: "handler",
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      loggingFormat: LoggingFormat.JSON,
      logGroup,
      projectRoot: repositoryRoot,
      depsLockFilePath: path.join(repositoryRoot, "package-lock.json"),
      environment: {
        NODE_OPTIONS: "--enable-source-maps",
        POWERTOOLS_LOG_LEVEL: "INFO",
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.CJS,
        target: "node22",
        minify: true,
        sourceMap: true,
        externalModules: [],
        forceDockerBundling: false,
      },
    });
  }
}
