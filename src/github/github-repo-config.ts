import { badValue } from '../bridge/connection-errors';

/** Every `enableHooks` value a GitHub repository connection accepts. */
export const GITHUB_HOOK_EVENTS = [
  'issue',
  'issue.changed',
  'issue.created',
  'issue.edited',
  'issue.labeled',
  'issue.comment',
  'issue.comment.created',
  'pull_request',
  'pull_request.closed',
  'pull_request.merged',
  'pull_request.opened',
  'pull_request.ready_for_review',
  'pull_request.reviewed',
  'push',
  'release',
  'release.created',
  'release.drafted',
  'workflow',
  'workflow.run',
  'workflow.run.success',
  'workflow.run.failure',
  'workflow.run.neutral',
  'workflow.run.cancelled',
  'workflow.run.timed_out',
  'workflow.run.action_required',
  'workflow.run.stale',
] as const;

export const DEFAULT_GITHUB_HOOKS: readonly string[] = [
  'issue.changed',
  'issue.created',
  'issue.edited',
  'issue.labeled',
  'issue',
  'pull_request.closed',
  'pull_request.merged',
  'pull_request.opened',
  'pull_request.ready_for_review',
  'pull_request.reviewed',
  'pull_request',
  'release.created',
];

/** A validated repository connection config; unknown keys are kept as they came. */
export interface GithubRepoConfig extends Record<string, unknown> {
  org: string;
  repo: string;
  enableHooks: string[];
  commandPrefix?: string;
  includingLabels?: string[];
  excludingLabels?: string[];
  workflowRun?: {
    matchingBranch?: string;
    includingWorkflows?: string[];
    excludingWorkflows?: string[];
  };
}

interface ValidationIssue {
  message: string;
  path: string;
}

type Check = (value: unknown, path: string, issues: ValidationIssue[]) => void;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const typed =
  (name: string, test: (v: unknown) => boolean): Check =>
  (value, path, issues) => {
    if (!test(value)) issues.push({ path, message: `must be ${name}` });
  };

const string = typed('string', (v) => typeof v === 'string');
const number = typed('number', (v) => typeof v === 'number' && Number.isFinite(v));
const boolean = typed('boolean', (v) => typeof v === 'boolean');

const stringArray: Check = (value, path, issues) => {
  if (!Array.isArray(value)) {
    issues.push({ path, message: 'must be array' });
    return;
  }
  value.forEach((item, i) => string(item, `${path}/${i}`, issues));
};

const object =
  (properties: Record<string, Check>, required: readonly string[] = []): Check =>
  (value, path, issues) => {
    if (!isObject(value)) {
      issues.push({ path, message: 'must be object' });
      return;
    }
    for (const key of required) {
      if (!(key in value)) {
        issues.push({ path, message: `must have required property '${key}'` });
      }
    }
    for (const [key, check] of Object.entries(properties)) {
      if (value[key] !== undefined) check(value[key], `${path}/${key}`, issues);
    }
  };

const commandPrefix: Check = (value, path, issues) => {
  if (typeof value !== 'string') return string(value, path, issues);
  if (value.length < 2) issues.push({ path, message: 'must NOT have fewer than 2 characters' });
  if (value.length > 24) issues.push({ path, message: 'must NOT have more than 24 characters' });
};

const hotlinkIssues: Check = (value, path, issues) => {
  if (typeof value === 'boolean') return;
  if (isObject(value) && typeof value.prefix === 'string') return;
  issues.push({ path, message: 'must be boolean or an object with a string prefix' });
};

const prDiff: Check = (value, path, issues) => {
  object({ enabled: boolean, maxLines: number }, ['enabled'])(value, path, issues);
  if (isObject(value) && typeof value.maxLines === 'number' && value.maxLines < 1) {
    issues.push({ path: `${path}/maxLines`, message: 'must be >= 1' });
  }
};

const matchingBranch: Check = (value, path, issues) => {
  if (typeof value !== 'string') return string(value, path, issues);
  try {
    new RegExp(value);
  } catch {
    issues.push({ path, message: 'must be a valid regular expression' });
  }
};

const configCheck = object(
  {
    org: string,
    repo: string,
    priority: number,
    enableHooks: stringArray,
    ignoreHooks: stringArray,
    commandPrefix,
    showIssueRoomLink: boolean,
    prDiff,
    newIssue: object({ labels: stringArray }, ['labels']),
    includingLabels: stringArray,
    excludingLabels: stringArray,
    hotlinkIssues,
    workflowRun: object({
      matchingBranch,
      includingWorkflows: stringArray,
      excludingWorkflows: stringArray,
    }),
  },
  ['org', 'repo'],
);

/**
 * Checks a repository connection config as provisioned (create, or the merged config of an
 * update) and fills in the default `enableHooks`.
 */
export function validateGithubRepoConfig(body: Record<string, unknown>): GithubRepoConfig {
  const issues: ValidationIssue[] = [];
  configCheck(body, '', issues);
  if (issues.length > 0) {
    throw badValue(
      `Failed to validate: ${issues.map((i) => `${i.path}: ${i.message}`).join(', ')}`,
      { validationErrors: issues },
    );
  }
  if (body.ignoreHooks !== undefined) {
    throw badValue('`ignoreHooks` cannot be used with new connections');
  }
  const allowed: readonly string[] = GITHUB_HOOK_EVENTS;
  const enableHooks = (body.enableHooks as string[] | undefined) ?? [...DEFAULT_GITHUB_HOOKS];
  const invalid = enableHooks.filter((h) => !allowed.includes(h));
  if (invalid.length > 0) {
    throw badValue(
      `'enableHooks' must only contain allowed values. Found invalid values ${invalid.join(', ')}`,
    );
  }
  return { ...body, enableHooks } as GithubRepoConfig;
}
