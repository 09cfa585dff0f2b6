import { describe, expect, it } from 'vitest';
import { withQuery } from './api-client.js';

describe('withQuery', () => {
  it('sends only what is set, encoded', () => {
    expect(withQuery('/apis/x/sites', {})).toBe('/apis/x/sites');
    expect(withQuery('/apis/x/sites', { labelSelector: undefined, fieldSelector: '' })).toBe('/apis/x/sites');
    expect(withQuery('/apis/x/sites', { watch: 'true', labelSelector: 'tier=edge,region=north', fieldSelector: 'metadata.name!=a b', resourceVersion: '7' })).toBe(
      '/apis/x/sites?watch=true&labelSelector=tier%3Dedge%2Cregion%3Dnorth&fieldSelector=metadata.name%21%3Da+b&resourceVersion=7',
    );
    // @ts-expect-error: a parameter the hub does not know cannot be written
    withQuery('/apis/x/sites', { timeoutSeconds: '5' });
  });
});
