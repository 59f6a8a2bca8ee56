import request from 'supertest';
import type { TestApp } from './app';

export const MAUBOT_API = '/_matrix/maubot/v1';

/** supertest calls to the maubot API of a test app, authenticated as its admin. */
export function maubotApi(t: TestApp) {
  const auth = (r: request.Test) => r.set('Authorization', `Bearer ${t.token}`);
  return {
    get: (path: string) => auth(request(t.app).get(MAUBOT_API + path)),
    put: (path: string, body: object) => auth(request(t.app).put(MAUBOT_API + path)).send(body),
    post: (path: string, body?: object) => {
      const r = auth(request(t.app).post(MAUBOT_API + path));
      return body === undefined ? r : r.send(body);
    },
    delete: (path: string) => auth(request(t.app).delete(MAUBOT_API + path)),
    /** A raw zip upload, as the UI and mbc send it. */
    upload: (archive: Buffer, query = '') =>
      auth(request(t.app).post(`${MAUBOT_API}/plugins/upload${query}`))
        .set('Content-Type', 'application/zip')
        .send(archive),
  };
}
