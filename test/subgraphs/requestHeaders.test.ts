import { describe, expect, it } from 'vitest';
import { headersFromConnection, headersFromHttp } from '../../lib/subgraph/requestHeaders.js';

describe('request headers, the same for HTTP and websockets', () => {
  it('reads HTTP headers case-insensitively', () => {
    const headers = headersFromHttp({ 'x-sandbox': 'alpha', 'set-cookie': ['a', 'b'] });
    expect(headers.get('X-Sandbox')).toBe('alpha');
    expect(headers.get('set-cookie')).toBe('a');
    expect(headers.get('authorization')).toBeUndefined();
  });

  it('reads connection params nested under headers, then at the top level, then the upgrade request', () => {
    expect(headersFromConnection({ headers: { 'X-SANDBOX': 'nested' }, 'x-sandbox': 'top' }, { 'x-sandbox': 'upgrade' }).get('x-sandbox')).toBe('nested');
    expect(headersFromConnection({ 'X-Sandbox': 'top' }, { 'x-sandbox': 'upgrade' }).get('x-sandbox')).toBe('top');
    expect(headersFromConnection({}, { 'x-sandbox': 'upgrade' }).get('x-sandbox')).toBe('upgrade');
    expect(headersFromConnection(undefined, undefined).get('x-sandbox')).toBeUndefined();
    expect(headersFromConnection({ Authorization: 'Bearer t' }, {}).get('authorization')).toBe('Bearer t');
  });

  it('ignores values that are not strings', () => {
    expect(headersFromConnection({ headers: { 'x-sandbox': 42 }, 'x-sandbox': { nested: true } }, {}).get('x-sandbox')).toBeUndefined();
  });
});
