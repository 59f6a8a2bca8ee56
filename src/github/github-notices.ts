import MarkdownIt from 'markdown-it';
import { notice, type MessageContent } from '../bridge/room-messenger';
import type { GithubRepoConfig } from './github-repo-config';

const markdown = new MarkdownIt({ html: false, linkify: false });

const META = 'uk.half-shot.matrix-hookshot.github';

type Payload = Record<string, unknown>;

const obj = (v: unknown): Payload =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Payload) : {};
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Markdown special characters in user text (titles, names) are shown, not interpreted. */
const escape = (text: string): string => text.replace(/([\\`*_[\]<>#|~])/g, '\\$1');

/**
 * Whether a hook is on: listed itself or through a listed parent, so `pull_request` covers
 * `pull_request.opened` and `workflow.run` covers `workflow.run.success`.
 */
export function hookEnabled(enableHooks: readonly string[], hook: string): boolean {
  const parts = hook.split('.');
  for (let i = parts.length; i > 0; i--) {
    if (enableHooks.includes(parts.slice(0, i).join('.'))) return true;
  }
  return false;
}

/** includingLabels: at least one of them; excludingLabels: none of them. */
export function labelsAllowed(config: GithubRepoConfig, labels: readonly string[]): boolean {
  const lower = labels.map((l) => l.toLowerCase());
  const including = config.includingLabels ?? [];
  if (including.length > 0 && !including.some((l) => lower.includes(l.toLowerCase()))) {
    return false;
  }
  return !(config.excludingLabels ?? []).some((l) => lower.includes(l.toLowerCase()));
}

const labelNames = (item: Payload): string[] =>
  list(item.labels)
    .map((l) => str(obj(l).name))
    .filter(Boolean);

function message(body: string, meta: Record<string, unknown>): MessageContent {
  return notice(body, markdown.render(body).trim(), meta);
}

function repoMeta(payload: Payload): Record<string, unknown> {
  const repo = obj(payload.repository);
  return {
    [`${META}.repo`]: { id: num(repo.id), name: str(repo.full_name), url: str(repo.html_url) },
  };
}

function issueMeta(issue: Payload): Record<string, unknown> {
  return {
    [`${META}.issue`]: {
      id: num(issue.id),
      number: num(issue.number),
      title: str(issue.title),
      url: str(issue.html_url),
    },
  };
}

const sender = (payload: Payload): string => escape(str(obj(payload.sender).login) || 'someone');
const ref = (item: Payload): string => `[#${num(item.number) ?? '?'}](${str(item.html_url)})`;
const title = (item: Payload): string => `"${escape(str(item.title))}"`;

/** The notice an event gives in a room with this config, or null when it is filtered out. */
export function githubNotice(
  event: string,
  payload: Payload,
  config: GithubRepoConfig,
): MessageContent | null {
  const action = str(payload.action);
  const hooks = config.enableHooks;
  switch (event) {
    case 'issues':
      return issueNotice(action, payload, config);
    case 'issue_comment': {
      const issue = obj(payload.issue);
      // A comment on a pull request arrives as an issue comment too.
      if (action !== 'created' || !hookEnabled(hooks, 'issue.comment.created')) return null;
      if (!labelsAllowed(config, labelNames(issue))) return null;
      const comment = obj(payload.comment);
      const quoted = str(comment.body)
        .split('\n')
        .map((l) => `> ${l}`)
        .join('\n');
      return message(
        `**${sender(payload)}** [commented](${str(comment.html_url)}) on ${ref(issue)}: ${title(issue)}\n\n${quoted}`,
        { ...repoMeta(payload), ...issueMeta(issue) },
      );
    }
    case 'pull_request':
      return pullRequestNotice(action, payload, config);
    case 'pull_request_review': {
      const pr = obj(payload.pull_request);
      if (action !== 'submitted' || !hookEnabled(hooks, 'pull_request.reviewed')) return null;
      if (!labelsAllowed(config, labelNames(pr))) return null;
      const state = str(obj(payload.review).state).toLowerCase();
      const verb =
        state === 'approved'
          ? 'approved'
          : state === 'changes_requested'
            ? 'requested changes on'
            : 'reviewed';
      return message(`**${sender(payload)}** ${verb} PR ${ref(pr)}: ${title(pr)}`, {
        ...repoMeta(payload),
        [`${META}.pull_request`]: {
          number: num(pr.number),
          title: str(pr.title),
          url: str(pr.html_url),
        },
      });
    }
    case 'push':
      return pushNotice(payload, config);
    case 'release': {
      const release = obj(payload.release);
      const draft = action === 'created' && release.draft === true;
      if (action === 'published') {
        if (!hookEnabled(hooks, 'release.created')) return null;
      } else if (draft) {
        if (!hookEnabled(hooks, 'release.drafted')) return null;
      } else {
        return null;
      }
      const name = escape(str(release.name) || str(release.tag_name));
      const repo = escape(str(obj(payload.repository).full_name));
      return message(
        `**${sender(payload)}** ${draft ? 'drafted release' : 'released'} [${name}](${str(release.html_url)}) for ${repo}`,
        {
          ...repoMeta(payload),
          [`${META}.release`]: { tag: str(release.tag_name), url: str(release.html_url) },
        },
      );
    }
    case 'workflow_run':
      return workflowNotice(action, payload, config);
    default:
      return null;
  }
}

function issueNotice(
  action: string,
  payload: Payload,
  config: GithubRepoConfig,
): MessageContent | null {
  const issue = obj(payload.issue);
  const hooks: Record<string, [string, string]> = {
    opened: ['issue.created', 'created a new issue'],
    edited: ['issue.edited', 'edited issue'],
    closed: ['issue.changed', 'closed issue'],
    reopened: ['issue.changed', 'reopened issue'],
    labeled: ['issue.labeled', 'labeled issue'],
  };
  const entry = hooks[action];
  if (!entry || !hookEnabled(config.enableHooks, entry[0])) return null;
  if (!labelsAllowed(config, labelNames(issue))) return null;
  let body = `**${sender(payload)}** ${entry[1]} ${ref(issue)}: ${title(issue)}`;
  if (action === 'labeled') body += ` with \`${str(obj(payload.label).name).replace(/`/g, "'")}\``;
  return message(body, { ...repoMeta(payload), ...issueMeta(issue) });
}

function pullRequestNotice(
  action: string,
  payload: Payload,
  config: GithubRepoConfig,
): MessageContent | null {
  const pr = obj(payload.pull_request);
  let hook: string;
  let text: string;
  if (action === 'opened') {
    hook = 'pull_request.opened';
    text = `**${sender(payload)}** opened a new ${pr.draft === true ? 'draft ' : ''}PR ${ref(pr)}: ${title(pr)}`;
  } else if (action === 'closed') {
    const merged = pr.merged === true;
    hook = merged ? 'pull_request.merged' : 'pull_request.closed';
    text = `**${sender(payload)}** ${merged ? 'merged' : 'closed'} PR ${ref(pr)}: ${title(pr)}`;
  } else if (action === 'ready_for_review') {
    hook = 'pull_request.ready_for_review';
    text = `PR ${ref(pr)}: ${title(pr)} is ready for review`;
  } else {
    return null;
  }
  if (!hookEnabled(config.enableHooks, hook)) return null;
  if (!labelsAllowed(config, labelNames(pr))) return null;
  return message(text, {
    ...repoMeta(payload),
    [`${META}.pull_request`]: {
      number: num(pr.number),
      title: str(pr.title),
      url: str(pr.html_url),
    },
  });
}

/** At most this many commits are listed in a push notice. */
const PUSH_COMMITS_SHOWN = 5;

function pushNotice(payload: Payload, config: GithubRepoConfig): MessageContent | null {
  if (!hookEnabled(config.enableHooks, 'push')) return null;
  const commits = list(payload.commits).map(obj);
  // Branch deletions and tag pushes without commits say nothing worth a notice.
  if (payload.deleted === true || commits.length === 0) return null;
  const branch = str(payload.ref).replace(/^refs\/(heads|tags)\//, '');
  const repo = escape(str(obj(payload.repository).full_name));
  const count = commits.length === 1 ? '1 commit' : `${commits.length} commits`;
  const lines = commits.slice(0, PUSH_COMMITS_SHOWN).map((c) => {
    const sha = str(c.id).slice(0, 7);
    const subject = escape(str(c.message).split('\n')[0] ?? '');
    return `- [\`${sha}\`](${str(c.url)}) ${subject}`;
  });
  if (commits.length > PUSH_COMMITS_SHOWN) {
    lines.push(`- and ${commits.length - PUSH_COMMITS_SHOWN} more`);
  }
  const pusher = escape(str(obj(payload.pusher).name) || str(obj(payload.sender).login));
  return message(
    `**${pusher}** pushed [${count}](${str(payload.compare)}) to \`${branch}\` of ${repo}\n\n${lines.join('\n')}`,
    {
      ...repoMeta(payload),
      [`${META}.push`]: { ref: str(payload.ref), after: str(payload.after) },
    },
  );
}

const WORKFLOW_CONCLUSIONS = [
  'success',
  'failure',
  'neutral',
  'cancelled',
  'timed_out',
  'action_required',
  'stale',
];

function workflowNotice(
  action: string,
  payload: Payload,
  config: GithubRepoConfig,
): MessageContent | null {
  const run = obj(payload.workflow_run);
  const conclusion = str(run.conclusion);
  if (action !== 'completed' || !WORKFLOW_CONCLUSIONS.includes(conclusion)) return null;
  if (!hookEnabled(config.enableHooks, `workflow.run.${conclusion}`)) return null;
  const name = str(run.name) || str(obj(payload.workflow).name);
  const branch = str(run.head_branch);
  const filter = config.workflowRun ?? {};
  if (filter.matchingBranch !== undefined && !new RegExp(filter.matchingBranch).test(branch)) {
    return null;
  }
  if (filter.includingWorkflows?.length && !filter.includingWorkflows.includes(name)) return null;
  if (filter.excludingWorkflows?.includes(name)) return null;
  return message(
    `Workflow **${escape(name)}** [${conclusion.replace('_', ' ')}](${str(run.html_url)}) on \`${branch}\``,
    {
      ...repoMeta(payload),
      [`${META}.workflow_run`]: { id: num(run.id), name, conclusion, url: str(run.html_url) },
    },
  );
}
