import type { RepositoryRegistry, RepositoryStore } from "./ports";
import type { RepositoryHealth, ResticRepository } from "./repository";

/**
 * The indexer reads a repository's settings for every snapshot; a warm Lambda keeps them for a
 * minute, and writes the repository's health only when it differs from what it last saw.
 */
export class CachedRepositoryRegistry implements RepositoryRegistry {
  private readonly cache = new Map<string, { repository: ResticRepository | undefined; until: number }>();

  constructor(
    private readonly store: Pick<RepositoryStore, "get" | "setHealth">,
    private readonly ttlMs = 60_000,
    private readonly clock: () => number = Date.now,
  ) {}

  async get(name: string): Promise<ResticRepository | undefined> {
    const cached = this.cache.get(name);
    if (cached && cached.until > this.clock()) return cached.repository;
    const repository = await this.store.get(name);
    // An unknown repository is not remembered: it may be registered the next moment, then re-driven.
    if (repository) this.cache.set(name, { repository, until: this.clock() + this.ttlMs });
    return repository;
  }

  async setHealth(name: string, health: RepositoryHealth): Promise<void> {
    const cached = this.cache.get(name);
    const known = cached?.repository?.health;
    if (known && known.status === health.status && known.reason === health.reason) return;
    await this.store.setHealth(name, health);
    if (cached?.repository) cached.repository = { ...cached.repository, health };
  }
}
