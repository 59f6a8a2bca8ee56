import type { RequestHandler } from 'express';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * Security headers for the HTML pages served next to the APIs: nosniff, no referrer, and no
 * framing by other sites (frame-ancestors and X-Frame-Options). HSTS is left to the TLS proxy
 * in front, which knows whether the site is HTTPS-only.
 */
const common: HelmetOptions = {
  referrerPolicy: { policy: 'no-referrer' },
  xFrameOptions: { action: 'deny' },
  strictTransportSecurity: false,
};

/** Swagger UI at /docs: helmet's default policy (own scripts, inline styles, same-origin fetches). */
export function docsPageHeaders(): RequestHandler {
  return helmet({
    ...common,
    contentSecurityPolicy: { directives: { frameAncestors: ["'none'"] } },
  });
}

/** The OAuth result pages: static text, so nothing at all may load. */
export function staticPageHeaders(): RequestHandler {
  return helmet({
    ...common,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'none'"],
        frameAncestors: ["'none'"],
      },
    },
  });
}

/**
 * maubot's web UI is a third-party build (which may inline its start-up script), so its
 * scripts are not restricted; only framing is.
 */
export function maubotUiHeaders(): RequestHandler {
  return helmet({
    ...common,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: helmet.contentSecurityPolicy.dangerouslyDisableDefaultSrc,
        frameAncestors: ["'none'"],
      },
    },
  });
}
