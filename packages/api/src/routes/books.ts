import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { createBook, getBook, listBooks, updateBook, type CoreContext } from '@coupons/core';
import type { AppEnv } from '../env.ts';
import { bearer, errors, jsonBody, jsonResponse } from '../openapi.ts';
import { respondOnce } from '../respond.ts';
import { BookIdParam, BookListSchema, BookSchema, BookWithStatsSchema, CreateBookSchema, PageQuery, UpdateBookSchema } from '../schemas.ts';

const tags = ['Books'];

export function bookRoutes(core: CoreContext) {
  return new OpenAPIHono<AppEnv>()
    .openapi(
      createRoute({
        method: 'post',
        path: '/coupons',
        tags,
        operationId: 'createBook',
        summary: 'Create a coupon book (admin)',
        security: bearer,
        request: jsonBody(CreateBookSchema),
        responses: { 201: jsonResponse(BookSchema, 'The book'), ...errors() },
      }),
      (c) => respondOnce(c, core, 201, (opts) => createBook(core, c.get('actor'), c.req.valid('json'), opts)),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/coupons',
        tags,
        operationId: 'listBooks',
        summary: "List the tenant's books, newest first (admin)",
        security: bearer,
        request: { query: PageQuery },
        responses: { 200: jsonResponse(BookListSchema, 'A page of books'), ...errors() },
      }),
      async (c) => c.json(await listBooks(core, c.get('actor'), c.req.valid('query')), 200),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/coupons/{bookId}',
        tags,
        operationId: 'getBook',
        summary: 'One book with live stats (admin)',
        security: bearer,
        request: { params: BookIdParam },
        responses: { 200: jsonResponse(BookWithStatsSchema, 'The book and its stats'), ...errors(404) },
      }),
      async (c) => c.json(await getBook(core, c.get('actor'), c.req.valid('param').bookId), 200),
    )
    .openapi(
      createRoute({
        method: 'patch',
        path: '/coupons/{bookId}',
        tags,
        operationId: 'updateBook',
        summary: 'Rename, change validity, pause or resume (admin)',
        security: bearer,
        request: { params: BookIdParam, ...jsonBody(UpdateBookSchema) },
        responses: { 200: jsonResponse(BookSchema, 'The updated book'), ...errors(404) },
      }),
      async (c) => c.json(await updateBook(core, c.get('actor'), c.req.valid('param').bookId, c.req.valid('json')), 200),
    );
}
