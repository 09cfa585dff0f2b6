import { describe, expect, it } from 'vitest';
import { readStatus, statusBody } from './status-body.js';

describe('statusBody', () => {
  it('builds a Kubernetes failure Status without empty details', () => {
    expect(statusBody(401, 'Unauthorized', 'no agent credential')).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'no agent credential',
      reason: 'Unauthorized',
      code: 401,
    });
    expect(statusBody(400, 'BadRequest', 'x', { causes: [] })).not.toHaveProperty('details');
  });

  it('carries field causes and a refusal code', () => {
    const causes = [{ field: 'spec.datacenter', message: 'is immutable', reason: 'FieldValueInvalid' }];
    expect(statusBody(422, 'Invalid', 'm', { causes }).details).toEqual({ causes });
    expect(statusBody(401, 'Unauthorized', 'm', { code: 'TOKEN_USED' }).details).toEqual({ code: 'TOKEN_USED' });
  });

  it('says when to retry a 429, as Kubernetes does', () => {
    expect(statusBody(429, 'TooManyRequests', 'm', { retryAfterSeconds: 6 }).details).toEqual({ retryAfterSeconds: 6 });
    expect(statusBody(429, 'TooManyRequests', 'm', { retryAfterSeconds: 0 })).not.toHaveProperty('details');
  });
});

describe('readStatus', () => {
  it('reads back what statusBody built', () => {
    const body = statusBody(409, 'Conflict', 'changed since you read it', { code: 'TARGET_GONE' });
    expect(readStatus(JSON.stringify(body))).toEqual(body);
  });

  it('is undefined for a body that is not a Status', () => {
    expect(readStatus('<html>502 Bad Gateway</html>')).toBeUndefined();
    expect(readStatus('{"kind":"Cluster"}')).toBeUndefined();
    expect(readStatus('null')).toBeUndefined();
  });
});
