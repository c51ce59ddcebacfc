/**
 * Checks API responses against the OpenAPI document (component/http/openapi.ts): the path template that
 * matches, the method, the status and the content type must be described, and a JSON body must validate
 * against the described schema (Ajv, JSON Schema 2020-12, as OpenAPI 3.1 uses). `apiFetch` does a request
 * and the check at once.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { openApiDocument } from "../../component/http/openapi.js";

// ajv-formats is CommonJS: its default export arrives as the module object under NodeNext.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (a: Ajv2020) => void;

const DOC_ID = "https://switchboard.invalid/openapi.json";
// Not strict: the document's own keywords (openapi, paths, ...) sit around the schemas.
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ ...openApiDocument, $id: DOC_ID });

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, "~0").replace(/\//g, "~1")).join("/");
const templates = Object.keys(openApiDocument.paths).map((t) => ({
  template: t, regex: new RegExp(`^${t.replace(/[.]/g, "\\.").replace(/\{[^}]+\}/g, "[^/]+")}$`),
}));

/** The path template a request path matches (the most specific: fewest parameters). */
function templateOf(path: string): string {
  const matches = templates.filter((t) => t.regex.test(path)).sort((a, b) => a.template.split("{").length - b.template.split("{").length);
  if (!matches[0]) throw new Error(`no path in the OpenAPI document matches ${path}`);
  return matches[0].template;
}

/** Whether the document describes this path (tests also probe paths no API has, on purpose). */
export const describedPath = (path: string) => templates.some((t) => t.regex.test(path));

/** Throws with Ajv's errors when the response is not as the document says. */
export function checkResponse(method: string, url: string, status: number, contentType: string | null, body: unknown): void {
  const path = new URL(url, "http://x").pathname;
  const template = templateOf(path);
  const operation = (openApiDocument.paths as Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>)[template]![method.toLowerCase()];
  if (!operation) throw new Error(`${method} ${template} is not in the OpenAPI document`);
  const response = operation.responses[String(status)];
  if (!response) throw new Error(`${method} ${template} answered ${status}, which the OpenAPI document does not describe`);
  const media = (contentType ?? "").split(";")[0]!.trim();
  if (!response.content?.[media]) throw new Error(`${method} ${template} ${status} answered ${media || "no content type"}, not described`);
  if (media !== "application/json") return;
  const validate = ajv.getSchema(`${DOC_ID}#/${pointer("paths", template, method.toLowerCase(), "responses", String(status), "content", media, "schema")}`);
  if (!validate) throw new Error(`no schema for ${method} ${template} ${status}`);
  if (!validate(body)) throw new Error(`${method} ${path} ${status}: the body does not match the OpenAPI document: ${ajv.errorsText(validate.errors, { separator: "\n" })}\n${JSON.stringify(body).slice(0, 2000)}`);
}

export interface ApiResponse<T = any> { status: number; contentType: string | null; body: T; text: string; headers: Headers }

/** An admin API request, its response checked against the document. */
export async function apiFetch(base: string, path: string, { token, method = "GET", accept, json, raw }: {
  token?: string | null; method?: string; accept?: string;
  /** A JSON body (sent as application/json). */ json?: unknown;
  /** A body sent as it is (application/json), for malformed ones. */ raw?: string;
} = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (accept) headers.accept = accept;
  const body_ = raw ?? (json === undefined ? undefined : JSON.stringify(json));
  if (body_ !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${base}${path}`, { method, headers, body: body_ });
  const text = await res.text();
  const contentType = res.headers.get("content-type");
  const body = contentType?.startsWith("application/json") ? JSON.parse(text) : text;
  checkResponse(method, path, res.status, contentType, body);
  return { status: res.status, contentType, body, text, headers: res.headers };
}

/** Every response schema of the document, compiled (a broken $ref or keyword fails here). */
export function compileAllResponses(): number {
  let n = 0;
  for (const [template, ops] of Object.entries(openApiDocument.paths as Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>))
    for (const [method, op] of Object.entries(ops))
      for (const [status, response] of Object.entries(op.responses))
        for (const media of Object.keys(response.content ?? {})) {
          if (!ajv.getSchema(`${DOC_ID}#/${pointer("paths", template, method, "responses", status, "content", media, "schema")}`)) throw new Error(`${method} ${template} ${status} ${media}: no schema`);
          n++;
        }
  return n;
}
