// `labelSelector=...` as Kubernetes parses it (k8s.io/apimachinery/pkg/labels, Parse): comma-separated
// requirements `key=v`, `key==v`, `key!=v`, `key in (a,b)`, `key notin (a,b)`, `key` (exists), `!key`
// (absent). Lists and watches take the same parse. Anything else is a 400 that names the problem and
// where it is: a selector read wrongly (`tier!=gold` taken as the key `tier!`) selects the wrong objects
// and looks like an answer. `key>n` and `key<n`, which Kubernetes parses for node affinity, are refused.
import type { ResourceObject } from '@outpost/proto';
import { BadRequestError } from '../errors.js';
import { matchesRequirements, type LabelRequirement, type LabelRequirements } from '../store/label-requirement.js';

export type LabelSelector = LabelRequirements;

type Tok =
  | { t: 'id'; s: string }
  | { t: 'op'; s: '=' | '==' | '!=' | '!' | '>' | '<' }
  | { t: '(' | ')' | ','; s: string }
  | { t: 'end'; s: 'end of string' };

// Kubernetes' special symbols end an identifier; the longest known symbol is taken ("!=" before "!").
const SYMBOLS = ['!=', '==', '=', '!', '>', '<', '(', ')', ','] as const;

function lex(raw: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < raw.length) {
    const ch = raw[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const sym = SYMBOLS.find((s) => raw.startsWith(s, i));
    if (sym) {
      out.push(sym === '(' || sym === ')' || sym === ',' ? { t: sym, s: sym } : { t: 'op', s: sym });
      i += sym.length;
      continue;
    }
    let j = i;
    while (j < raw.length && !/\s/.test(raw[j]!) && !'=!<>(),'.includes(raw[j]!)) j++;
    out.push({ t: 'id', s: raw.slice(i, j) });
    i = j;
  }
  out.push({ t: 'end', s: 'end of string' });
  return out;
}

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Kubernetes' qualified name: `[prefix/]name`, the prefix a DNS subdomain (253), the name at most 63. */
function keyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (!DNS_SUBDOMAIN.test(prefix) || prefix.length > 253)) return `the prefix "${prefix}" of key "${key}" is not a DNS subdomain (lower-case letters, digits, '-' and '.')`;
  if (name.length > 63) return `key "${key}" has a name part longer than 63 characters`;
  if (!NAME.test(name)) return `key "${key}" must be letters, digits, '-', '_' or '.', starting and ending with a letter or digit (with an optional prefix/)`;
  return undefined;
}

function valueProblem(value: string): string | undefined {
  if (value.length > 63) return `value "${value}" is longer than 63 characters`;
  if (value && !NAME.test(value)) return `value "${value}" must be empty or letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  return undefined;
}

class Parser {
  private i = 0;
  constructor(
    private readonly raw: string,
    private readonly toks: Tok[],
  ) {}

  private fail(problem: string): never {
    throw new BadRequestError(`labelSelector "${this.raw}" is not a label selector: ${problem}; write key=value, key!=value, key in (a,b), key notin (a,b), key or !key, joined by commas`);
  }

  private peek(): Tok {
    return this.toks[this.i]!;
  }

  private next(): Tok {
    const t = this.toks[this.i]!;
    if (t.t !== 'end') this.i++;
    return t;
  }

  private found(t: Tok): string {
    return t.t === 'end' ? 'end of string' : `'${t.s}'`;
  }

  parse(): LabelRequirement[] {
    const out: LabelRequirement[] = [];
    if (this.peek().t === 'end') return out;
    for (;;) {
      out.push(this.requirement());
      const t = this.next();
      if (t.t === 'end') return out;
      if (t.t !== ',') this.fail(`found ${this.found(t)} after a requirement, expected ',' or the end`);
    }
  }

  private requirement(): LabelRequirement {
    let t = this.next();
    const absent = t.t === 'op' && t.s === '!';
    if (absent) t = this.next();
    if (t.t !== 'id') this.fail(`found ${this.found(t)}, expected a label key`);
    const key = t.s;
    const bad = keyProblem(key);
    if (bad) this.fail(bad);
    const after = this.peek();
    if (absent || after.t === 'end' || after.t === ',') {
      if (absent && after.t !== 'end' && after.t !== ',') this.fail(`!${key} takes no operator or value`);
      return { key, operator: absent ? 'absent' : 'exists', values: [] };
    }
    const op = this.next();
    if (op.t === 'id' && (op.s === 'in' || op.s === 'notin')) return { key, operator: op.s, values: this.set(op.s) };
    if (op.t === 'op' && (op.s === '=' || op.s === '==' || op.s === '!=')) return { key, operator: op.s === '!=' ? 'notin' : 'in', values: [this.exactValue()] };
    if (op.t === 'op' && (op.s === '>' || op.s === '<')) this.fail(`the operator '${op.s}' is not supported here (Kubernetes takes it for node affinity only)`);
    return this.fail(`found ${this.found(op)} after key "${key}", expected one of in, notin, =, ==, !=`);
  }

  private exactValue(): string {
    const t = this.peek();
    if (t.t === 'end' || t.t === ',') return '';
    this.next();
    if (t.t !== 'id') this.fail(`found ${this.found(t)}, expected a value`);
    const bad = valueProblem(t.s);
    if (bad) this.fail(bad);
    return t.s;
  }

  /** `(a, b, )`: as Kubernetes, an empty item is the empty value; an empty set is refused. */
  private set(op: string): string[] {
    const open = this.next();
    if (open.t !== '(') this.fail(`found ${this.found(open)} after '${op}', expected '('`);
    const values = new Set<string>();
    let item = '';
    for (;;) {
      const t = this.next();
      if (t.t === 'id') {
        if (item) this.fail(`found '${t.s}' after '${item}', expected ',' or ')'`);
        const bad = valueProblem(t.s);
        if (bad) this.fail(bad);
        item = t.s;
        continue;
      }
      if (t.t !== ',' && t.t !== ')') this.fail(`found ${this.found(t)} in the values of '${op}', expected a value, ',' or ')'`);
      if (item || t.t === ',' || values.size > 0) values.add(item);
      item = '';
      if (t.t === ')') break;
    }
    if (values.size === 0) this.fail(`'${op}' needs at least one value, as in ${op} (a,b)`);
    return [...values];
  }
}

export function parseLabelSelector(raw: string | undefined): LabelSelector | undefined {
  if (raw === undefined) return undefined;
  const requirements = new Parser(raw, lex(raw)).parse();
  return requirements.length ? requirements : undefined;
}

export function matchesLabels(selector: LabelSelector | undefined, o: ResourceObject): boolean {
  return matchesRequirements(selector, o);
}
