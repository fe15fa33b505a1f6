/** The import command's target (GATEWAY_URL, or GATEWAY_PORT as `npm start` reads it) and its closing report. */
import { describe, expect, it } from 'vitest';
import { gatewayTarget } from '../../subgraphs/profile/imports/cli/gatewayTarget.js';
import { importReport } from '../../subgraphs/profile/imports/cli/report.js';

describe('import command target', () => {
  it('uses GATEWAY_URL, else GATEWAY_PORT, else the port npm start uses', () => {
    expect(gatewayTarget({ GATEWAY_URL: 'http://gw.example:8080/graphql', GATEWAY_PORT: '5000' })).toEqual({ url: 'http://gw.example:8080/graphql', from: 'GATEWAY_URL' });
    expect(gatewayTarget({ GATEWAY_PORT: '5000' })).toEqual({ url: 'http://localhost:5000/graphql', from: 'GATEWAY_PORT' });
    expect(gatewayTarget({})).toEqual({ url: 'http://localhost:4000/graphql', from: 'the default GATEWAY_PORT' });
    expect(() => gatewayTarget({ GATEWAY_PORT: 'x' })).toThrow(/GATEWAY_PORT must be a port number/);
  });
});

describe('import command report', () => {
  it('counts rows written in part apart from rejected rows, and prints the first bad rows with their reasons', () => {
    const report = importReport({ id: 'imp_1', status: 'SUCCEEDED', rowsImported: 46, rowsRejected: 4, rowsPartial: 5 }, [
      { line: 3, code: 'BAD_USER_INPUT', reason: 'person rejected: workEmail "x" is not a valid email address', partial: false },
      { line: 7, code: 'NOT_FOUND', reason: "the row's main record was kept, but its account link was rejected: Account was not found", partial: true },
    ]);
    expect(report).toBe(
      [
        'Import imp_1 SUCCEEDED: 46 rows written (5 of them in part: a related record was rejected), 4 rejected',
        'First rows with problems (line, code, reason):',
        '  line 3 BAD_USER_INPUT: person rejected: workEmail "x" is not a valid email address',
        "  line 7 [written in part] NOT_FOUND: the row's main record was kept, but its account link was rejected: Account was not found",
        '7 more: query { import(id: "imp_1") { errors(first: 100, after: 7) { line code reason partial } } }',
        '',
      ].join('\n'),
    );
    expect(importReport({ id: 'imp_2', status: 'SUCCEEDED', rowsImported: 1, rowsRejected: 0, rowsPartial: 0 }, [])).toBe('Import imp_2 SUCCEEDED: 1 row written, 0 rejected\n');
  });
});
