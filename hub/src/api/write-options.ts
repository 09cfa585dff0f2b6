// The query parameters and media types of a write that kubectl sends besides its body: fieldManager,
// fieldValidation, force, and the PATCH content types. Read here so app.ts only dispatches.
import type { Context } from 'hono';
import YAML from 'yaml';
import { BadRequestError, HubError } from '../errors.js';
import { checkFieldManager, defaultFieldManager } from './managed-fields.js';
import type { FieldValidation, WriteOptions } from './resource-service.js';

const FIELD_VALIDATION: readonly FieldValidation[] = ['Strict', 'Warn', 'Ignore'];

/** PATCH bodies the hub understands, by media type. */
export type PatchType = 'merge' | 'json' | 'apply';

const PATCH_TYPES: Readonly<Record<string, PatchType>> = {
  'application/merge-patch+json': 'merge',
  'application/json': 'merge',
  'application/json-patch+json': 'json',
  'application/apply-patch+yaml': 'apply',
};

/** The PATCH's kind from its Content-Type; exact media types, since each has its own semantics. */
export function patchType(contentType: string | undefined): PatchType {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const type = PATCH_TYPES[media];
  if (!type) {
    const hint = media === 'application/strategic-merge-patch+json' ? ' (strategic merge patch is for built-in Kubernetes types; use kubectl patch --type=merge or --type=json)' : '';
    throw new HubError(415, 'UnsupportedMediaType', `PATCH supports application/merge-patch+json, application/json-patch+json and application/apply-patch+yaml, not ${contentType || 'no content-type'}${hint}`);
  }
  return type;
}

/**
 * The write's field manager and field validation. fieldValidation defaults to Strict: the hub has always
 * refused unknown fields, and a typo silently dropped is a setting silently not made (kube-apiserver's
 * default is Warn; kubectl sends Strict unless --validate=false, which sends Ignore).
 */
export function writeOptions(c: Context, principal: string): WriteOptions {
  const validation = c.req.query('fieldValidation');
  if (validation !== undefined && !FIELD_VALIDATION.includes(validation as FieldValidation)) {
    throw new BadRequestError(`fieldValidation=${validation} is not one of ${FIELD_VALIDATION.join(', ')}; nothing was written`);
  }
  const manager = c.req.query('fieldManager');
  return {
    fieldManager: manager !== undefined ? checkFieldManager(manager) : defaultFieldManager(c.req.header('user-agent'), principal),
    fieldValidation: (validation as FieldValidation | undefined) ?? 'Strict',
    warnings: [],
  };
}

/** ?force=true, which only server-side apply takes (Kubernetes refuses it elsewhere too). */
export function parseForce(c: Context, type: PatchType | undefined): boolean {
  const force = c.req.query('force');
  if (force === undefined) return false;
  if (force !== 'true' && force !== 'false') throw new BadRequestError(`force=${force} must be true or false; nothing was written`);
  if (type !== 'apply') throw new BadRequestError('force is only for server-side apply (PATCH application/apply-patch+yaml); nothing was written');
  return force === 'true';
}

/** An apply body: one YAML (or JSON) document. */
export function applyBody(text: string): unknown {
  const docs = YAML.parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const errors = list.flatMap((d) => d.errors);
  if (errors.length) throw new BadRequestError(`the applied configuration is not YAML or JSON: ${errors[0]!.message.split('\n')[0]}; nothing was written`);
  if (list.length !== 1) throw new BadRequestError(`an applied configuration is one object, not ${list.length} YAML documents; apply them one by one (kubectl apply --server-side -f does); nothing was written`);
  return list[0]!.toJS();
}

/** Kubernetes' Warning header (RFC 7234 299), ASCII only as HTTP headers must be. */
export function warningHeader(text: string): string {
  return `299 - ${JSON.stringify(text).replace(/[^\x20-\x7e]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)}`;
}
