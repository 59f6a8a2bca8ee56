import type { Request, Response } from 'express';
import type { JiraService } from '../../../jira/jira-service';
import type { ResponseBody } from '../types';

const userOf = (req: Request): string => req.query.userId as string;

export function jiraHandlers(service: JiraService) {
  return {
    oauth: async (req: Request, res: Response<ResponseBody<'getJiraOauthUrl', 200>>) => {
      res.json(await service.oauthUrl(userOf(req)));
    },

    account: async (req: Request, res: Response<ResponseBody<'getJiraAccount', 200>>) => {
      res.json(await service.account(userOf(req)));
    },

    projects: async (
      req: Request<{ instanceName: string }>,
      res: Response<ResponseBody<'listJiraProjects', 200>>,
    ) => {
      res.json(await service.projects(userOf(req), req.params.instanceName));
    },
  };
}
