import {
  issueCreatedNotice,
  issueUpdatedNotice,
  versionNotice,
  type JiraIssueEvent,
} from '../../src/jira/jira-notices';

const issue = (summary: string): JiraIssueEvent['issue'] => ({
  id: '10008',
  key: 'TP-8',
  self: 'https://example.org/rest/api/2/issue/10008',
  fields: {
    summary,
    project: { id: '10000', key: 'TP' },
    creator: { displayName: 'Test User' },
  },
});

describe('JIRA notices', () => {
  it('issue_created names the creator, links the issue and quotes the summary', () => {
    const content = issueCreatedNotice({ issue: issue('Test issue') });
    expect(content.msgtype).toBe('m.notice');
    expect(content.body).toBe(
      'Test User created a new JIRA issue [TP-8](https://example.org/browse/TP-8): "Test issue"',
    );
    expect(content.formatted_body).toBe(
      '<p>Test User created a new JIRA issue <a href="https://example.org/browse/TP-8">TP-8</a>: &quot;Test issue&quot;</p>',
    );
  });

  it('payload text is shown literally: no markup or HTML from JIRA is rendered', () => {
    const content = issueCreatedNotice({ issue: issue('**bold** <img src=x> [a](javascript:x)') });
    expect(content.body).toBe(
      'Test User created a new JIRA issue [TP-8](https://example.org/browse/TP-8): "**bold** <img src=x> [a](javascript:x)"',
    );
    expect(content.formatted_body).toBe(
      '<p>Test User created a new JIRA issue <a href="https://example.org/browse/TP-8">TP-8</a>: &quot;**bold** &lt;img src=x&gt; [a](javascript:x)&quot;</p>',
    );
  });

  it('issue_updated lists the changelog', () => {
    const content = issueUpdatedNotice({
      user: { displayName: 'Alice' },
      issue: issue('Test issue'),
      changelog: {
        items: [
          { field: 'status', fromString: 'To Do', toString: 'Done' },
          { field: 'assignee', fromString: null, toString: 'Bob' },
          { field: 'labels', fromString: 'triage', toString: '' },
        ],
      },
    });
    expect(content.body).toBe(
      [
        'Alice updated JIRA issue [TP-8](https://example.org/browse/TP-8): "Test issue"',
        '',
        ' - **status** changed from "To Do" to "Done"',
        ' - **assignee** set to "Bob"',
        ' - **labels** cleared (was "triage")',
      ].join('\n'),
    );
    expect(content.formatted_body).toBe(
      '<p>Alice updated JIRA issue <a href="https://example.org/browse/TP-8">TP-8</a>: &quot;Test issue&quot;</p>\n' +
        '<ul>\n' +
        '<li><strong>status</strong> changed from &quot;To Do&quot; to &quot;Done&quot;</li>\n' +
        '<li><strong>assignee</strong> set to &quot;Bob&quot;</li>\n' +
        '<li><strong>labels</strong> cleared (was &quot;triage&quot;)</li>\n' +
        '</ul>',
    );
  });

  it('version events say what happened to which version of which project', () => {
    const content = versionNotice(
      'created',
      { id: '1', name: 'v2.0', projectId: 10000, description: 'Spring release' },
      { key: 'TP', url: 'https://example.org/projects/TP' },
    );
    expect(content.body).toBe(
      'Version **created** in [TP](https://example.org/projects/TP): v2.0 - Spring release',
    );
    expect(content.formatted_body).toBe(
      '<p>Version <strong>created</strong> in <a href="https://example.org/projects/TP">TP</a>: v2.0 - Spring release</p>',
    );
    expect(content['uk.half-shot.matrix-hookshot.jira.version']).toEqual({
      id: '1',
      name: 'v2.0',
      projectId: '10000',
    });
  });
});
