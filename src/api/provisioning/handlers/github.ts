import type { Request, Response } from 'express';
import type { GithubService } from '../../../github/github-service';
import type { ResponseBody } from '../types';

const userOf = (req: Request): string => req.query.userId as string;

/** The validator checked the range; absent means hookshot's defaults (page 1, 10 per page). */
const pageOf = (req: Request): [number, number] => [
  req.query.page === undefined ? 1 : Number(req.query.page),
  req.query.perPage === undefined ? 10 : Number(req.query.perPage),
];

export function githubHandlers(service: GithubService) {
  return {
    oauth: async (req: Request, res: Response<ResponseBody<'getGithubOauthUrls', 200>>) => {
      res.json(await service.oauthUrls(userOf(req)));
    },

    account: async (req: Request, res: Response<ResponseBody<'getGithubAccount', 200>>) => {
      res.json(await service.account(userOf(req), ...pageOf(req)));
    },

    orgRepositories: async (
      req: Request<{ orgName: string }>,
      res: Response<ResponseBody<'listGithubOrgRepositories', 200>>,
    ) => {
      res.json(await service.orgRepositories(userOf(req), req.params.orgName, ...pageOf(req)));
    },

    userRepositories: async (
      req: Request,
      res: Response<ResponseBody<'listGithubRepositories', 200>>,
    ) => {
      res.json(await service.userRepositories(userOf(req), ...pageOf(req)));
    },
  };
}
