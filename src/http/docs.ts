import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import { OPENAPI_DIR } from '../paths';
import type { ApiName } from './openapi';

const SPECS: { name: ApiName; title: string }[] = [
  { name: 'maubot', title: 'maubot Management API' },
  { name: 'provisioning', title: 'Provisioning API (hookshot v1)' },
];

/** Swagger UI for both APIs at /docs (a selector switches between them) and the raw specs. */
export function docsRouter(): Router {
  const router = Router();
  for (const { name } of SPECS) {
    const text = readFileSync(join(OPENAPI_DIR, `${name}.yaml`), 'utf8');
    router.get(`/openapi/${name}.yaml`, (_req, res) => {
      res.type('application/yaml').send(text);
    });
  }
  const urls = SPECS.map(({ name, title }) => ({ url: `/openapi/${name}.yaml`, name: title }));
  router.use('/docs', swaggerUi.serveWithOptions({ redirect: true }));
  router.get('/docs', swaggerUi.setup(undefined, { explorer: true, swaggerOptions: { urls } }));
  return router;
}
