import { ConnectionError } from '../bridge/connection-errors';
import {
  GITHUB_REPO,
  type ConnectionKind,
  type CreateInput,
  type PreparedConnection,
  type UpdateInput,
} from '../bridge/connection-types';
import { validateGithubRepoConfig } from './github-repo-config';
import type { GithubService } from './github-service';

const statusOf = (err: unknown): number | undefined =>
  typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number'
    ? err.status
    : undefined;

/**
 * GitHub repository connections: the App's own webhook delivers the events, so a create only
 * checks that the user may bridge the repository and that the App can see it.
 */
export class GithubRepoKind implements ConnectionKind {
  readonly declaration = GITHUB_REPO;
  readonly tombstone = { disabled: true };
  readonly defaultCommandPrefix = '!gh';

  constructor(private readonly github: GithubService) {}

  async create(input: CreateInput): Promise<PreparedConnection> {
    const config = validateGithubRepoConfig(input.body);
    const token = await this.github.userToken(input.userId);
    if (token === null) {
      throw new ConnectionError('HS_FORBIDDEN_USER', 'User is not authenticated with GitHub');
    }
    const login = await this.github.userLogin(token);
    let permission: string;
    try {
      const { data } = await this.github
        .userClient(token)
        .rest.repos.getCollaboratorPermissionLevel({
          owner: config.org,
          repo: config.repo,
          username: login,
        });
      permission = data.permission;
    } catch {
      throw new ConnectionError(
        'HS_FORBIDDEN_USER',
        'Could not determine if the user has access to this repository, does the repository exist?',
      );
    }
    if (permission !== 'admin' && permission !== 'write') {
      throw new ConnectionError(
        'HS_FORBIDDEN_USER',
        'You must at least have write permissions to bridge this repository',
      );
    }
    let installed: boolean;
    try {
      installed =
        (await this.github.installation(
          config.org,
          login.toLowerCase() === config.org.toLowerCase(),
        )) !== null;
    } catch (err) {
      throw new ConnectionError(
        'HS_UNKNOWN',
        `Could not look up the GitHub App installation (GitHub answered ${statusOf(err) ?? 'nothing'})`,
      );
    }
    if (!installed) {
      throw new ConnectionError(
        'HS_ADDITIONAL_ACTION_REQUIRED',
        'You need to add a GitHub App to this organisation / repository before you can bridge it.',
        { installUrl: `${await this.github.appPage()}/installations/new` },
      );
    }
    return { stateKey: `${config.org}/${config.repo}`, config };
  }

  /** As upstream: org/repo may change without a new access check, and the state key stays. */
  async update(input: UpdateInput): Promise<PreparedConnection> {
    const merged = { ...input.current.config, ...input.body };
    // State written before this server may carry the legacy field; a PATCH that does not name
    // it again is not refused for it.
    if (!('ignoreHooks' in input.body)) delete merged.ignoreHooks;
    return Promise.resolve({
      stateKey: input.current.stateKey,
      config: validateGithubRepoConfig(merged),
    });
  }
}
