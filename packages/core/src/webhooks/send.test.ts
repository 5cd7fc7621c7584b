import { describe, expect, it } from 'vitest';
import { sendOnce, TARGET_REFUSED } from './send.ts';

// What a tenant reads back from a refused attempt (`lastError` in its delivery log): one text for
// every target the guard refuses and every name that does not resolve, so the log cannot be used
// to learn how the service's own network resolves names or where its private ranges lie.
describe('sendOnce on a target it may not call', () => {
  const options = { timeoutMs: 2000, allowLoopback: false, now: () => Date.now() };
  const message = { messageId: 'msg_test', body: '{}' };
  const targets = [
    'http://10.0.0.1/hook',
    'http://192.0.2.1/hook',
    'http://[::1]:9/hook',
    'http://127.0.0.1:9/hook',
    'http://localhost:9/hook',
    'http://[64:ff9b::a00:1]/hook',
    'http://no-such-host.invalid/hook',
  ];

  it('records the same generic error for each, naming no address and no resolver outcome', async () => {
    const outcomes = await Promise.all(targets.map((url) => sendOnce({ url, secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] }, message, options)));
    for (const o of outcomes) expect(o).toEqual({ ok: false, error: TARGET_REFUSED });
    expect(TARGET_REFUSED).not.toMatch(/\d+\.\d+|::|loopback|private|ENOTFOUND|resolve[sd]? to/i);
  });
});
