import MarkdownIt from 'markdown-it';
import { notice, type MessageContent } from '../bridge/room-messenger';

/** The parts of JIRA Cloud webhook payloads the notices use (Atlassian's documented shapes). */
export interface JiraWebhookUser {
  displayName?: string | undefined;
  accountId?: string | undefined;
}

export interface JiraWebhookIssue {
  id: string;
  key: string;
  /** The issue's REST URL; its origin is the site. */
  self: string;
  fields: {
    summary?: string | undefined;
    project: { id: string; key: string; name?: string | undefined };
    creator?: JiraWebhookUser | null | undefined;
    reporter?: JiraWebhookUser | null | undefined;
  };
}

export interface JiraChangelogItem {
  field: string;
  fromString?: string | null | undefined;
  toString?: string | null | undefined;
}

export interface JiraIssueEvent {
  user?: JiraWebhookUser | undefined;
  issue: JiraWebhookIssue;
  changelog?: { items: JiraChangelogItem[] } | undefined;
}

export interface JiraVersion {
  id: string;
  name: string;
  projectId: string | number;
  description?: string | undefined;
  releaseDate?: string | undefined;
}

export type VersionAction = 'created' | 'updated' | 'released';

// No raw HTML from payloads reaches the room: markdown-it escapes it with html off.
const md = new MarkdownIt({ html: false, linkify: false });

const MARKDOWN_SPECIAL = /[\\`*_{}[\]()<>#+\-!|~&]/g;

/** A value written into markdown: shown as-is in the body, escaped for rendering. */
class Text {
  constructor(readonly value: string) {}
}

/**
 * Builds a notice from a template whose interpolated values are payload text: the plain body
 * shows them as they are, the HTML renders them literally (a summary of "**x**" stays "**x**").
 */
function compose(strings: TemplateStringsArray, ...values: (string | Text)[]): [string, string] {
  let body = strings[0] ?? '';
  let markdown = body;
  values.forEach((v, i) => {
    const text = v instanceof Text ? v.value : v;
    body += text + (strings[i + 1] ?? '');
    markdown +=
      (v instanceof Text ? text.replace(MARKDOWN_SPECIAL, (c) => `\\${c}`) : text) +
      (strings[i + 1] ?? '');
  });
  return [body, markdown];
}

const t = (value: string): Text => new Text(value);

function render(
  [body, markdown]: [string, string],
  extra: Record<string, unknown>,
): MessageContent {
  return notice(body, md.render(markdown).trimEnd(), extra);
}

function nameOf(user: JiraWebhookUser | null | undefined): string | undefined {
  return user?.displayName && user.displayName !== '' ? user.displayName : undefined;
}

/** The page of an issue: `<site>/browse/<KEY>`. */
export function browseUrl(issue: Pick<JiraWebhookIssue, 'self' | 'key'>): string {
  return `${new URL(issue.self).origin}/browse/${issue.key}`;
}

function issueMetadata(issue: JiraWebhookIssue): Record<string, unknown> {
  return {
    'uk.half-shot.matrix-hookshot.jira.issue': {
      id: issue.id,
      key: issue.key,
      api_url: issue.self,
    },
    'uk.half-shot.matrix-hookshot.jira.project': {
      id: issue.fields.project.id,
      key: issue.fields.project.key,
    },
  };
}

export function issueCreatedNotice(event: JiraIssueEvent): MessageContent {
  const { issue } = event;
  const creator =
    nameOf(issue.fields.creator) ??
    nameOf(issue.fields.reporter) ??
    nameOf(event.user) ??
    'Someone';
  return render(
    compose`${t(creator)} created a new JIRA issue [${t(issue.key)}](${t(browseUrl(issue))}): "${t(issue.fields.summary ?? '')}"`,
    issueMetadata(issue),
  );
}

function changeLine(item: JiraChangelogItem): [string, string] {
  const from = item.fromString ?? '';
  const to = item.toString ?? '';
  if (from === '') return compose` - **${t(item.field)}** set to "${t(to)}"`;
  if (to === '') return compose` - **${t(item.field)}** cleared (was "${t(from)}")`;
  return compose` - **${t(item.field)}** changed from "${t(from)}" to "${t(to)}"`;
}

export function issueUpdatedNotice(event: JiraIssueEvent): MessageContent {
  const { issue } = event;
  const who = nameOf(event.user) ?? 'Someone';
  const head = compose`${t(who)} updated JIRA issue [${t(issue.key)}](${t(browseUrl(issue))}): "${t(issue.fields.summary ?? '')}"`;
  const lines = (event.changelog?.items ?? []).map(changeLine);
  if (lines.length === 0) return render(head, issueMetadata(issue));
  // A blank line before the list: markdown needs it to start a list after a paragraph.
  const body = [head[0], '', ...lines.map((l) => l[0])].join('\n');
  const markdown = [head[1], '', ...lines.map((l) => l[1])].join('\n');
  return render([body, markdown], issueMetadata(issue));
}

/** A version event for one connection's project (the payload names the project only by id). */
export function versionNotice(
  action: VersionAction,
  version: JiraVersion,
  project: { key: string; url: string },
): MessageContent {
  const parts = compose`Version **${action}** in [${t(project.key)}](${t(project.url)}): ${t(version.name)}`;
  const description = version.description?.trim();
  const withDescription: [string, string] = description
    ? (() => {
        const d = compose` - ${t(description)}`;
        return [parts[0] + d[0], parts[1] + d[1]];
      })()
    : parts;
  return render(withDescription, {
    'uk.half-shot.matrix-hookshot.jira.version': {
      id: version.id,
      name: version.name,
      projectId: String(version.projectId),
    },
  });
}
