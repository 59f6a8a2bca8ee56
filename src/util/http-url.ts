/** Whether a parsed URL can be fetched over HTTP: http or https. */
export function isHttpScheme(url: URL): boolean {
  return url.protocol === 'http:' || url.protocol === 'https:';
}

/** `text` as an http(s) URL; `invalid` when it is no URL, `scheme` when it has another scheme. */
export function parseHttpUrl(text: string): URL | 'invalid' | 'scheme' {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'invalid';
  }
  return isHttpScheme(url) ? url : 'scheme';
}
