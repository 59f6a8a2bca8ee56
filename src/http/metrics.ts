import { Router } from 'express';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  /** Counts one answered request (called by the access log when the response is finished). */
  recordRequest(method: string, status: number): void;
  /** A gauge read when scraped: `read` gives its value. */
  gauge(name: string, help: string, read: () => number): void;
}

/** Prometheus metrics: process defaults plus a request counter by method and status. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Counted in a plain map on the hot path and handed to the counter only when scraped.
  const answered = new Map<string, { method: string; status: string; count: number }>();
  new Counter({
    name: 'switchboard_http_requests_total',
    help: 'HTTP requests answered, by method and status',
    labelNames: ['method', 'status'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { method, status, count } of answered.values())
        this.inc({ method, status }, count);
    },
  });
  const recordRequest = (method: string, status: number): void => {
    const key = `${method} ${status}`;
    const entry = answered.get(key);
    if (entry) entry.count += 1;
    else answered.set(key, { method, status: String(status), count: 1 });
  };
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  };
  return { registry, recordRequest, gauge };
}

export function metricsRouter(metrics: Metrics): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return router;
}
