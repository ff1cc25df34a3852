import type { LabHttpRequest, LabHttpResponse } from '../types.js';

/** GitHub's docs root: error bodies point at the page of the operation when the lab knows it. */
export const DOCS = 'https://docs.github.com/rest';

/** A handler's answer before the common headers are added. */
export type Reply = LabHttpResponse;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(body) };
}

export function noContent(): Reply {
  return { status: 204, headers: {} };
}

/** GitHub's error body: `message`, `documentation_url`, and (since 2024) `status` as a string. */
export function error(status: number, message: string, documentationUrl = DOCS, extra: Record<string, unknown> = {}): Reply {
  return json(status, { message, documentation_url: documentationUrl, status: String(status), ...extra });
}

export function notFound(documentationUrl = DOCS): Reply {
  return error(404, 'Not Found', documentationUrl);
}

/** 422 as GitHub sends it for a field that fails validation. */
export function validationFailed(documentationUrl: string, errors: Array<Record<string, unknown> | string>, message = 'Validation Failed'): Reply {
  return error(422, message, documentationUrl, { errors });
}

/** The request's JSON body, or undefined when absent or not JSON (the caller answers 400/422). */
export function jsonBody(request: LabHttpRequest): unknown {
  if (request.body.length === 0) return undefined;
  try {
    return JSON.parse(request.body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** `per_page` (default 30, at most 100) and `page` (from 1), as GitHub reads them. */
export function pageParams(query: URLSearchParams): { perPage: number; page: number } {
  const perPageRaw = Number(query.get('per_page') ?? '30');
  const pageRaw = Number(query.get('page') ?? '1');
  const perPage = Number.isInteger(perPageRaw) && perPageRaw > 0 ? Math.min(perPageRaw, 100) : 30;
  const page = Number.isInteger(pageRaw) && pageRaw > 0 ? pageRaw : 1;
  return { perPage, page };
}

/**
 * One page of `items` and the `Link` header GitHub sends with it (rel prev/next/last/first, each
 * URL the request's own with `page` replaced), so Octokit's paginate() walks the lab as it walks GitHub.
 */
export function paginate<T>(items: readonly T[], request: LabHttpRequest, baseUrl: string): { page: T[]; headers: Record<string, string> } {
  const { perPage, page } = pageParams(request.query);
  const lastPage = Math.max(1, Math.ceil(items.length / perPage));
  const slice = items.slice((page - 1) * perPage, page * perPage);
  const link = (target: number, rel: string) => {
    const query = new URLSearchParams(request.query);
    query.set('per_page', String(perPage));
    query.set('page', String(target));
    return `<${baseUrl}${request.path}?${query.toString()}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page > 1) links.push(link(Math.min(page - 1, lastPage), 'prev'));
  if (page < lastPage) links.push(link(page + 1, 'next'), link(lastPage, 'last'));
  if (page > 1) links.push(link(1, 'first'));
  return { page: slice, headers: links.length > 0 ? { link: links.join(', ') } : {} };
}

/** A route: `METHOD /template/{param}` compiled to a regex over the decoded path segments. */
export interface Route<H> {
  method: string;
  template: string;
  /** The docs page GitHub's error bodies point at for this operation. */
  docs: string;
  handler: H;
  regex: RegExp;
  params: string[];
}

export function route<H>(method: string, template: string, docs: string, handler: H): Route<H> {
  const params: string[] = [];
  const pattern = template
    .split('/')
    .map((segment) => {
      const match = /^\{(\w+)\}$/.exec(segment);
      if (!match) return segment.replace(/[.+?^${}()|[\]\\-]/g, '\\$&');
      params.push(match[1]!);
      // `{path}` of the contents API spans slashes and may be empty (the root listing).
      return match[1] === 'path' ? '(.*)' : '([^/]+)';
    })
    .join('/');
  return { method, template, docs: `${DOCS}/${docs}`, handler, regex: new RegExp(`^${pattern}$`), params };
}

export function matchRoute<H>(routes: readonly Route<H>[], method: string, path: string): { route: Route<H>; params: Record<string, string> } | undefined {
  for (const candidate of routes) {
    if (candidate.method !== method) continue;
    const match = candidate.regex.exec(path);
    if (!match) continue;
    const params: Record<string, string> = {};
    try {
      candidate.params.forEach((name, index) => {
        params[name] = decodeURIComponent(match[index + 1]!);
      });
    } catch {
      // A malformed %-escape names nothing that exists: the caller answers 404.
      return undefined;
    }
    return { route: candidate, params };
  }
  return undefined;
}
