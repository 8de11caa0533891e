import type { PruneState, RepositoryHealth, ResticRepository, VerificationState } from "./repository";

/** The registered repositories as the indexer and retention read them (a cached DynamoDB store in Lambda). */
export interface RepositoryRegistry {
  get(name: string): Promise<ResticRepository | undefined>;
  setHealth(name: string, health: NonNullable<ResticRepository["health"]>): Promise<void>;
}

/** Where repository passwords come from (Secrets Manager, cached, in Lambda). */
export interface PasswordSource {
  /** `fresh` skips any cache: asked when the cached password no longer opens the repository. */
  get(repository: ResticRepository, options?: { fresh?: boolean }): Promise<string | undefined>;
}

/** The registered repositories (the DynamoDB implementation is in catalog/dynamo/repository-store.ts). */
export interface RepositoryStore extends RepositoryRegistry {
  /** Registers a repository, or changes a registered one's settings keeping its health and verification history. */
  register(repository: ResticRepository): Promise<void>;
  list(): Promise<ResticRepository[]>;
  setHealth(name: string, health: RepositoryHealth): Promise<void>;
  /** Stores a verification run's state if no other run stored one since `previousRuns` was read. */
  setVerification(name: string, previousRuns: number | null, next: VerificationState): Promise<boolean>;
  /** Retention forgot snapshots in it: a prune is wanted. */
  requestPrune(name: string, at: Date): Promise<void>;
  /**
   * Marks a prune started if one is wanted and none was started since it was (`force`: whatever was asked),
   * false otherwise, so two dispatchers never start two prunes for one request.
   */
  claimPrune(name: string, at: Date, options?: { force?: boolean }): Promise<boolean>;
  recordPrune(name: string, last: NonNullable<PruneState["last"]>): Promise<void>;
}
