/**
 * The browsable OpenAPI page: Swagger UI (swagger-ui-dist, served locally
 * under /openapi/ui/, no CDN) over a server-rendered listing of every path and
 * method, which is what shows when scripts are off or the UI assets are
 * missing (Swagger UI replaces it once it renders).
 */
type JsonObject = Record<string, unknown>;

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

function block(title: string, value: unknown): string {
  if (value === undefined) return '';
  return `<details><summary>${esc(title)}</summary><pre>${esc(JSON.stringify(value, null, 2))}</pre></details>`;
}

/** Where the page loads Swagger UI from (routes in plugins/openapi.ts). */
export const SWAGGER_UI_BASE = '/openapi/ui';

export function renderOpenApiPage(doc: JsonObject, swaggerUi = false): string {
  const paths = (doc['paths'] ?? {}) as Record<string, Record<string, JsonObject>>;
  const rows: string[] = [];
  for (const p of Object.keys(paths).sort()) {
    for (const [method, op] of Object.entries(paths[p])) {
      rows.push(`<section class="op"><h3><span class="m ${esc(method)}">${esc(method.toUpperCase())}</span> <code>${esc(p)}</code></h3>`
        + `<p>${esc(String(op['summary'] ?? ''))}</p>`
        + block('parameters', (op['parameters'] as unknown[] | undefined)?.length ? op['parameters'] : undefined)
        + block('request body', op['requestBody'])
        + block('responses', op['responses'])
        + block('security', op['security'])
        + '</section>');
    }
  }
  const info = (doc['info'] ?? {}) as JsonObject;
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${esc(String(info['title'] ?? 'API'))} - OpenAPI</title>
<style>body{font-family:sans-serif;max-width:70em;margin:auto;padding:1em}.op{border:1px solid #ccc;border-radius:4px;margin:.5em 0;padding:.3em .8em}
.m{display:inline-block;min-width:4.5em;font-weight:bold}.get{color:#0a6}.post{color:#06c}.put{color:#c70}.delete{color:#c00}pre{background:#f6f6f6;padding:.5em;overflow:auto}</style>
${swaggerUi ? `<link rel="stylesheet" href="${SWAGGER_UI_BASE}/swagger-ui.css">` : ''}</head>
<body><h1>${esc(String(info['title'] ?? 'API'))} ${esc(String(info['version'] ?? ''))}</h1>
<p>${esc(String(info['description'] ?? ''))} &mdash; <a href="/openapi/openapi.yaml">openapi.yaml</a> &middot; <a href="/openapi/openapi.json">openapi.json</a></p>
<div id="swagger-ui">
${rows.join('\n')}
</div>
${swaggerUi ? `<script src="${SWAGGER_UI_BASE}/swagger-ui-bundle.js"></script><script src="${SWAGGER_UI_BASE}/init.js"></script>` : ''}
</body></html>`;
}
