// Loaded lazily (cli/aws.ts, cli/deployment.ts, drill run): a named import lets esbuild keep only what the CLI
// uses of the client, where an import() of the package itself would keep all of it.
export { S3Client } from "@aws-sdk/client-s3";
