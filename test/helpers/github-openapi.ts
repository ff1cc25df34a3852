import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

/**
 * GitHub's official OpenAPI description (@octokit/openapi, api.github.com), compiled with ajv to
 * check that the lab answers, and the product sends, what GitHub documents.
 *
 * The non-dereferenced file is used (13 MB rather than 73 MB) with every `$ref` pointed at one
 * registered copy of `components`, so shared schemas compile once. OpenAPI 3.0 is not JSON
 * Schema: `nullable: true` becomes a `null` alternative, and `discriminator`/examples are dropped.
 */
type Json = Record<string, unknown>;

const SPEC_ID = 'https://api.github.com/openapi.json';

function loadSpec(): Json {
  const require = createRequire(import.meta.url);
  const file = require.resolve('@octokit/openapi/generated/api.github.com.json');
  return JSON.parse(readFileSync(file, 'utf8')) as Json;
}

/** OpenAPI 3.0 schema -> JSON Schema ajv understands. */
function convert(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(convert);
  if (!node || typeof node !== 'object') return node;
  const source = node as Json;
  const out: Json = {};
  for (const [key, value] of Object.entries(source)) {
    if (key === 'discriminator' || key === 'example' || key === 'examples' || key === 'nullable' || key.startsWith('x-')) continue;
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#/')) {
      out.$ref = `${SPEC_ID}${value}`;
      continue;
    }
    out[key] = convert(value);
  }
  if (source.nullable === true) {
    if (typeof out.type === 'string' && !out.enum) return { ...out, type: [out.type, 'null'] };
    if (typeof out.type === 'string' && Array.isArray(out.enum)) return { ...out, type: [out.type, 'null'], enum: [...out.enum, null] };
    return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

function pointer(root: Json, ref: string): Json {
  const path = ref.replace(/^#\//, '').split('/').map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  let node: unknown = root;
  for (const part of path) node = (node as Json)[part];
  return node as Json;
}

export interface OpenApiChecker {
  /** Errors of a response body against the documented schema of `METHOD /template` for `status` ([] = valid). */
  response(method: string, template: string, status: number, body: unknown): string[];
  /** Errors of a request body against the documented JSON request body of the operation. */
  requestBody(method: string, template: string, body: unknown): string[];
  /** Whether the description has the operation at all. */
  has(method: string, template: string): boolean;
  /** Whether the description documents this status for the operation. */
  documents(method: string, template: string, status: number): boolean;
}

let cached: OpenApiChecker | undefined;

export function githubOpenApi(): OpenApiChecker {
  if (cached) return cached;
  const spec = loadSpec();
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, validateFormats: true });
  (addFormatsModule as unknown as (ajv: Ajv) => void)(ajv);
  ajv.addSchema({ $id: SPEC_ID, components: convert(spec.components) } as Json);
  const compiled = new Map<string, ValidateFunction>();

  const operation = (method: string, template: string): Json => {
    const item = (spec.paths as Json)[template] as Json | undefined;
    const op = item?.[method.toLowerCase()] as Json | undefined;
    if (!op) throw new Error(`OpenAPI: no operation ${method} ${template}`);
    return op;
  };
  const deref = (node: Json): Json => (typeof node.$ref === 'string' ? deref(pointer(spec, node.$ref)) : node);
  const jsonSchemaOf = (content: Json | undefined): Json | undefined => {
    if (!content) return undefined;
    const media = (content['application/json'] ?? content['application/scim+json']) as Json | undefined;
    return media?.schema as Json | undefined;
  };
  const validate = (key: string, schema: Json | undefined, body: unknown): string[] => {
    if (!schema) return body === undefined || body === '' || (typeof body === 'object' && body !== null && Object.keys(body).length === 0) ? [] : [`${key}: no JSON schema documented, body given`];
    let fn = compiled.get(key);
    if (!fn) {
      fn = ajv.compile(convert(schema) as Json);
      compiled.set(key, fn);
    }
    return fn(body) ? [] : (fn.errors ?? []).map((e) => `${key}: ${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
  };

  cached = {
    has(method, template) {
      return Boolean(((spec.paths as Json)[template] as Json | undefined)?.[method.toLowerCase()]);
    },
    documents(method, template, status) {
      const responses = operation(method, template).responses as Json;
      return String(status) in responses;
    },
    response(method, template, status, body) {
      const responses = operation(method, template).responses as Json;
      const documented = responses[String(status)] as Json | undefined;
      if (!documented) return [`${method} ${template}: status ${status} is not documented (documented: ${Object.keys(responses).join(', ')})`];
      return validate(`${method} ${template} ${status}`, jsonSchemaOf(deref(documented).content as Json | undefined), body);
    },
    requestBody(method, template, body) {
      const requestBody = operation(method, template).requestBody as Json | undefined;
      if (!requestBody) return body === undefined ? [] : [`${method} ${template}: no request body documented`];
      return validate(`${method} ${template} request`, jsonSchemaOf(deref(requestBody).content as Json), body);
    },
  };
  return cached;
}
