import { githubNotice, hookEnabled, labelsAllowed } from '../../src/github/github-notices';
import { DEFAULT_GITHUB_HOOKS, type GithubRepoConfig } from '../../src/github/github-repo-config';

const repository = { id: 7, full_name: 'o/r', html_url: 'https://github.com/o/r' };
const sender = { login: 'alice' };
const issue = (labels: string[] = []) => ({
  id: 100,
  number: 5,
  title: 'Crash on *start*',
  html_url: 'https://github.com/o/r/issues/5',
  labels: labels.map((name) => ({ name })),
});
const pr = (extra: Record<string, unknown> = {}) => ({
  number: 12,
  title: 'Title',
  html_url: 'https://github.com/o/r/pull/12',
  labels: [],
  ...extra,
});

const config = (extra: Partial<GithubRepoConfig> = {}): GithubRepoConfig => ({
  org: 'o',
  repo: 'r',
  enableHooks: [...DEFAULT_GITHUB_HOOKS],
  ...extra,
});

const body = (event: string, payload: Record<string, unknown>, c = config()) =>
  githubNotice(event, { repository, sender, ...payload }, c)?.body ?? null;

describe('githubNotice', () => {
  test('issues: opened, edited, closed, reopened, labeled', () => {
    expect(body('issues', { action: 'opened', issue: issue() })).toBe(
      '**alice** created a new issue [#5](https://github.com/o/r/issues/5): "Crash on \\*start\\*"',
    );
    expect(body('issues', { action: 'edited', issue: issue() })).toBe(
      '**alice** edited issue [#5](https://github.com/o/r/issues/5): "Crash on \\*start\\*"',
    );
    expect(body('issues', { action: 'closed', issue: issue() })).toBe(
      '**alice** closed issue [#5](https://github.com/o/r/issues/5): "Crash on \\*start\\*"',
    );
    expect(body('issues', { action: 'reopened', issue: issue() })).toBe(
      '**alice** reopened issue [#5](https://github.com/o/r/issues/5): "Crash on \\*start\\*"',
    );
    expect(
      body('issues', { action: 'labeled', issue: issue(['bug']), label: { name: 'bug' } }),
    ).toBe(
      '**alice** labeled issue [#5](https://github.com/o/r/issues/5): "Crash on \\*start\\*" with `bug`',
    );
    expect(body('issues', { action: 'unlabeled', issue: issue() })).toBeNull();
  });

  test('the notice is an m.notice with rendered HTML and hookshot metadata', () => {
    const content = githubNotice(
      'issues',
      { repository, sender, action: 'opened', issue: issue() },
      config(),
    );
    expect(content).toEqual({
      msgtype: 'm.notice',
      body: '**alice** created a new issue [#5](https://github.com/o/r/issues/5): "Crash on \\*start\\*"',
      format: 'org.matrix.custom.html',
      formatted_body:
        '<p><strong>alice</strong> created a new issue <a href="https://github.com/o/r/issues/5">#5</a>: &quot;Crash on *start*&quot;</p>',
      'uk.half-shot.matrix-hookshot.github.repo': {
        id: 7,
        name: 'o/r',
        url: 'https://github.com/o/r',
      },
      'uk.half-shot.matrix-hookshot.github.issue': {
        id: 100,
        number: 5,
        title: 'Crash on *start*',
        url: 'https://github.com/o/r/issues/5',
      },
    });
  });

  test('issue_comment.created quotes the comment', () => {
    const comment = { body: 'Same here\non macOS', html_url: 'https://github.com/o/r/issues/5#c1' };
    expect(body('issue_comment', { action: 'created', issue: issue(), comment })).toBe(
      '**alice** [commented](https://github.com/o/r/issues/5#c1) on [#5](https://github.com/o/r/issues/5): "Crash on \\*start\\*"\n\n> Same here\n> on macOS',
    );
    expect(body('issue_comment', { action: 'deleted', issue: issue(), comment })).toBeNull();
  });

  test('pull requests: opened, draft, merged, closed, ready for review', () => {
    expect(body('pull_request', { action: 'opened', pull_request: pr() })).toBe(
      '**alice** opened a new PR [#12](https://github.com/o/r/pull/12): "Title"',
    );
    expect(body('pull_request', { action: 'opened', pull_request: pr({ draft: true }) })).toBe(
      '**alice** opened a new draft PR [#12](https://github.com/o/r/pull/12): "Title"',
    );
    expect(body('pull_request', { action: 'closed', pull_request: pr({ merged: true }) })).toBe(
      '**alice** merged PR [#12](https://github.com/o/r/pull/12): "Title"',
    );
    expect(body('pull_request', { action: 'closed', pull_request: pr({ merged: false }) })).toBe(
      '**alice** closed PR [#12](https://github.com/o/r/pull/12): "Title"',
    );
    expect(body('pull_request', { action: 'ready_for_review', pull_request: pr() })).toBe(
      'PR [#12](https://github.com/o/r/pull/12): "Title" is ready for review',
    );
    expect(body('pull_request', { action: 'synchronize', pull_request: pr() })).toBeNull();
  });

  test('pull_request_review.submitted by state', () => {
    const review = (state: string) => ({
      action: 'submitted',
      pull_request: pr(),
      review: { state },
    });
    expect(body('pull_request_review', review('approved'))).toBe(
      '**alice** approved PR [#12](https://github.com/o/r/pull/12): "Title"',
    );
    expect(body('pull_request_review', review('changes_requested'))).toBe(
      '**alice** requested changes on PR [#12](https://github.com/o/r/pull/12): "Title"',
    );
    expect(body('pull_request_review', review('commented'))).toBe(
      '**alice** reviewed PR [#12](https://github.com/o/r/pull/12): "Title"',
    );
  });

  test('push lists the commits; needs the push hook; branch deletions say nothing', () => {
    const push = {
      ref: 'refs/heads/main',
      after: 'bbbbbbb',
      compare: 'https://github.com/o/r/compare/a...b',
      pusher: { name: 'alice' },
      commits: [
        {
          id: 'abcdef1234',
          message: 'Fix it\n\nlong text',
          url: 'https://github.com/o/r/commit/abcdef1234',
        },
        { id: '1234567890', message: 'Add tests', url: 'https://github.com/o/r/commit/1234567890' },
      ],
    };
    expect(body('push', push)).toBeNull();
    const withPush = config({ enableHooks: ['push'] });
    expect(body('push', push, withPush)).toBe(
      '**alice** pushed [2 commits](https://github.com/o/r/compare/a...b) to `main` of o/r\n\n' +
        '- [`abcdef1`](https://github.com/o/r/commit/abcdef1234) Fix it\n' +
        '- [`1234567`](https://github.com/o/r/commit/1234567890) Add tests',
    );
    expect(body('push', { ...push, deleted: true, commits: [] }, withPush)).toBeNull();
  });

  test('releases: published by default, drafts only with release.drafted', () => {
    const release = {
      name: 'v1.0',
      tag_name: 'v1.0',
      html_url: 'https://github.com/o/r/releases/v1.0',
    };
    expect(body('release', { action: 'published', release })).toBe(
      '**alice** released [v1.0](https://github.com/o/r/releases/v1.0) for o/r',
    );
    const draft = { action: 'created', release: { ...release, draft: true } };
    expect(body('release', draft)).toBeNull();
    expect(body('release', draft, config({ enableHooks: ['release.drafted'] }))).toBe(
      '**alice** drafted release [v1.0](https://github.com/o/r/releases/v1.0) for o/r',
    );
  });

  test('workflow_run.completed: gated by conclusion and the workflowRun filters', () => {
    const run = (conclusion: string, branch = 'main', name = 'CI') => ({
      action: 'completed',
      workflow_run: {
        id: 3,
        name,
        conclusion,
        head_branch: branch,
        html_url: 'https://github.com/o/r/actions/runs/3',
      },
    });
    expect(body('workflow_run', run('success'))).toBeNull();
    const c = config({ enableHooks: ['workflow.run.failure', 'workflow.run.timed_out'] });
    expect(body('workflow_run', run('failure'), c)).toBe(
      'Workflow **CI** [failure](https://github.com/o/r/actions/runs/3) on `main`',
    );
    expect(body('workflow_run', run('timed_out'), c)).toBe(
      'Workflow **CI** [timed out](https://github.com/o/r/actions/runs/3) on `main`',
    );
    expect(body('workflow_run', run('success'), c)).toBeNull();
    const filtered = config({
      enableHooks: ['workflow'],
      workflowRun: { matchingBranch: '^release/', excludingWorkflows: ['Lint'] },
    });
    expect(body('workflow_run', run('success', 'main'), filtered)).toBeNull();
    expect(body('workflow_run', run('success', 'release/1', 'Lint'), filtered)).toBeNull();
    expect(body('workflow_run', run('success', 'release/1'), filtered)).toBe(
      'Workflow **CI** [success](https://github.com/o/r/actions/runs/3) on `release/1`',
    );
  });

  test('enableHooks gates each event, parents cover children', () => {
    const opened = { action: 'opened', pull_request: pr() };
    expect(body('pull_request', opened, config({ enableHooks: ['issue'] }))).toBeNull();
    expect(
      body('pull_request', opened, config({ enableHooks: ['pull_request.opened'] })),
    ).not.toBeNull();
    expect(body('pull_request', opened, config({ enableHooks: ['pull_request'] }))).not.toBeNull();
    expect(hookEnabled(['workflow.run'], 'workflow.run.success')).toBe(true);
    expect(hookEnabled(['workflow.run.success'], 'workflow.run')).toBe(false);
  });

  test('label filters: includingLabels needs one, excludingLabels none', () => {
    const labeled = (labels: string[]) => ({ action: 'opened', issue: issue(labels) });
    const including = config({ includingLabels: ['bug'] });
    expect(body('issues', labeled([]), including)).toBeNull();
    expect(body('issues', labeled(['Bug']), including)).not.toBeNull();
    const excluding = config({ excludingLabels: ['wontfix'] });
    expect(body('issues', labeled(['wontfix']), excluding)).toBeNull();
    expect(body('issues', labeled(['bug']), excluding)).not.toBeNull();
    expect(labelsAllowed(config(), [])).toBe(true);
  });

  test('unknown events and actions give nothing', () => {
    expect(body('star', { action: 'created' })).toBeNull();
    expect(body('installation', { action: 'created' })).toBeNull();
  });
});
