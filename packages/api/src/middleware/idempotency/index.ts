import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { AppError, type IdempotencyClaim } from '@coupons/core';
import type { AppEnv } from '../../env.ts';

const KEY = /^[\x21-\x7e]{1,200}$/;

/** Same JSON, same text: key order and whitespace do not make a different request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Reads `Idempotency-Key` on a POST and describes the request (tenant,
 * caller, key, hash of method + path + body) for the use case, which
 * records its response in the same transaction as its work.
 */
export function idempotencyKey(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const key = c.req.header('idempotency-key');
    if (c.req.method !== 'POST' || key === undefined) return next();
    if (!KEY.test(key)) {
      throw new AppError('VALIDATION_FAILED', 'Idempotency-Key must be 1 to 200 visible ASCII characters.', {
        details: [{ field: 'Idempotency-Key', reason: '1 to 200 visible ASCII characters' }],
      });
    }
    const text = await c.req.text();
    let body: string;
    try {
      body = text ? canonical(JSON.parse(text)) : '';
    } catch {
      body = text; // The validator answers MALFORMED_JSON; hash the raw text meanwhile.
    }
    const actor = c.get('actor');
    const claim: IdempotencyClaim = {
      tenant: actor.tenant,
      role: actor.role,
      caller: actor.sub,
      key,
      requestHash: createHash('sha256').update(`${c.req.method} ${c.req.path}\n${body}`).digest('hex'),
      status: 0,
    };
    c.set('idempotency', claim);
    await next();
  };
}
