import { describe, expect, it } from 'vitest';
import { withIdleTransactionTimeout } from './durable-runtime.js';

describe('withIdleTransactionTimeout', () => {
  it('adds the limit as a startup option node-postgres sends and keeps the rest of the URL', () => {
    const url = new URL(withIdleTransactionTimeout('postgres://responder:p%40ss@127.0.0.1:54329/responder'));
    expect(url.searchParams.get('options')).toBe('-c idle_in_transaction_session_timeout=60000');
    expect(decodeURIComponent(url.password)).toBe('p@ss');
    expect(url.pathname).toBe('/responder');
  });

  it('leaves a URL that already carries startup options as it is', () => {
    const given = 'postgres://u:p@db/responder?options=-c%20statement_timeout%3D5000';
    expect(withIdleTransactionTimeout(given)).toBe(given);
  });
});
