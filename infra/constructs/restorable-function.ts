import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import { Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Architecture, Code, Function as LambdaFunction, LoggingFormat, Runtime } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { environmentFor, type FunctionContract, type SettingValues } from "../../shared/contracts/functions";

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * Context key: when true, functions get a one-line stub instead of their esbuild bundle, so tests that
 * only look at the template synthesize in seconds (as instance-scheduler-on-aws's TestFunctionFactory does).
 * One infra test still bundles for real.
 */
export const STUB_FUNCTION_CODE_CONTEXT = "restorable:stubFunctionCode";

export interface RestorableFunctionProps<C extends FunctionContract> {
  /** Entry, description, timeout, memory and the settings the handler reads (shared/contracts/functions.ts). */
  readonly contract: C;
  /** Every setting the contract names, by name: one missing or misspelt fails to compile. */
  readonly settings: SettingValues<C>;
}

/**
 * The one way this project makes a Lambda: current Node.js on ARM, JSON logs kept for 90 days, source
 * maps, bundled locally by esbuild (no Docker) with the AWS SDK included so that the code runs against
 * the SDK version it was tested with; its environment built from its contract. Its role starts empty
 * except for writing its own log group: everything else comes from explicit grants.
 */
export function restorableFunction<C extends FunctionContract>(
  scope: Construct,
  id: string,
  props: RestorableFunctionProps<C>,
): LambdaFunction {
  const { contract } = props;
  const logGroup = new LogGroup(scope, `${id}Logs`, {
    retention: RetentionDays.THREE_MONTHS,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const role = new Role(scope, `${id}Role`, {
    assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
    description: `Runs ${contract.entry}`,
  });
  logGroup.grantWrite(role);
  const common = {
    role,
    description: contract.description,
    runtime: Runtime.NODEJS_24_X,
    architecture: Architecture.ARM_64,
    memorySize: contract.memoryMB,
    timeout: Duration.seconds(contract.timeoutSeconds),
    loggingFormat: LoggingFormat.JSON,
    logGroup,
    environment: {
      NODE_OPTIONS: "--enable-source-maps",
      POWERTOOLS_LOG_LEVEL: "INFO",
      ...environmentFor(contract, props.settings),
    },
  };
  if (scope.node.tryGetContext(STUB_FUNCTION_CODE_CONTEXT) === true) {
    return new LambdaFunction(scope, id, {
      ...common,
      handler: "index.handler",
      code: Code.fromInline(`exports.handler = async () => { throw new Error("stub of ${contract.entry}"); };`),
    });
  }
  return new NodejsFunction(scope, id, {
    ...common,
    entry: path.join(repositoryRoot, "functions", `${contract.entry}.ts`),
    handler: "handler",
    projectRoot: repositoryRoot,
    depsLockFilePath: path.join(repositoryRoot, "package-lock.json"),
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
