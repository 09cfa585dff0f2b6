// `-o jsonpath=TEMPLATE`, in kubectl's template dialect: literal text, `{EXPR}` actions holding a JSONPath
// expression relative to the current object (`{.items[*].metadata.name}`), quoted strings with JSON escapes
// (`{"\n"}`, the only way to a newline: a bare \n outside braces stays two characters, as in kubectl), and
// `{range EXPR}...{end}` repeating its body for each result. The JSONPath itself is jsonpath-plus's; only
// the template around it is parsed here, since no library speaks that dialect. Outputs match kubectl's
// (several results of one action joined by spaces, objects as JSON with sorted keys, a missing field as
// nothing), checked against kubectl itself when this was written.
import { JSONPath } from 'jsonpath-plus';

export class JsonPathError extends Error {
  override readonly name = 'JsonPathError';
}

type Node = { text: string } | { path: string } | { range: string; body: Node[] };

export interface JsonPathTemplate {
  readonly source: string;
  readonly nodes: readonly Node[];
}

/** The end of the action opened at `start` (the index of its closing brace), minding quotes. */
function actionEnd(template: string, start: number): number {
  let quote: string | undefined;
  for (let i = start + 1; i < template.length; i++) {
    const ch = template[i]!;
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '}') return i;
    else if (ch === '{') throw new JsonPathError(`error parsing jsonpath ${template}: unrecognized character in action: '{' at offset ${i}`);
  }
  throw new JsonPathError(`error parsing jsonpath ${template}: unclosed action (a "{" without its "}")`);
}

/** A JSONPath expression of an action, as jsonpath-plus reads it: rooted at the current object. */
function rooted(template: string, expr: string): string {
  if (expr === '.' || expr === '@' || expr === '$') return '$';
  if (expr.startsWith('$') || expr.startsWith('@')) return `$${expr.slice(1)}`;
  if (expr.startsWith('.') || expr.startsWith('[')) return `$${expr}`;
  throw new JsonPathError(`error parsing jsonpath ${template}: unrecognized identifier ${expr}; a field is written with a leading dot, such as {.metadata.name}`);
}

export function parseJsonPath(template: string): JsonPathTemplate {
  const root: Node[] = [];
  const stack: Node[][] = [root];
  const top = (): Node[] => stack[stack.length - 1]!;
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    if (open < 0) {
      top().push({ text: template.slice(i) });
      break;
    }
    if (open > i) top().push({ text: template.slice(i, open) });
    const close = actionEnd(template, open);
    const action = template.slice(open + 1, close).trim();
    i = close + 1;
    if (action === 'end') {
      if (stack.length === 1) throw new JsonPathError(`error parsing jsonpath ${template}: {end} is not in a {range}, nothing to end`);
      stack.pop();
    } else if (/^range\s/.test(action)) {
      const body: Node[] = [];
      top().push({ range: rooted(template, action.slice(5).trim()), body });
      stack.push(body);
    } else if (action.startsWith('"')) {
      try {
        top().push({ text: JSON.parse(action) as string });
      } catch {
        throw new JsonPathError(`error parsing jsonpath ${template}: ${action} is not a quoted string`);
      }
    } else if (action === '') {
      throw new JsonPathError(`error parsing jsonpath ${template}: an empty action {}`);
    } else {
      top().push({ path: rooted(template, action) });
    }
  }
  // An unclosed {range} runs to the end of the template, as kubectl's does.
  return { source: template, nodes: root };
}

/** Go's encoding/json order: object keys sorted, so the text matches kubectl's. */
function sortedJson(v: unknown): string {
  return JSON.stringify(v, (_k, value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : value,
  );
}

function show(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return sortedJson(v ?? null);
}

function results(path: string, json: unknown): unknown[] {
  if (path === '$') return [json];
  // eval 'safe': filters such as [?(@.name=="b")] without running JavaScript.
  return JSONPath({ path, json: json as object, wrap: true, eval: 'safe' }) as unknown[];
}

function run(nodes: readonly Node[], current: unknown): string {
  let out = '';
  for (const n of nodes) {
    if ('text' in n) out += n.text;
    else if ('path' in n) out += results(n.path, current).map(show).join(' ');
    else for (const item of results(n.range, current)) out += run(n.body, item);
  }
  return out;
}

export function runJsonPath(t: JsonPathTemplate, data: unknown): string {
  try {
    return run(t.nodes, data);
  } catch (err) {
    throw new JsonPathError(`error executing jsonpath ${t.source}: ${(err as Error).message}`, { cause: err });
  }
}
