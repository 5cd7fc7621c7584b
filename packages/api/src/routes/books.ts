import { OpenAPIHono } from '@hono/zod-openapi';
import { bookVersion, createBook, getBook, listBooks, updateBook, updateBookRefusals, type CoreContext } from '@coupons/core';
import { etagOf, ifMatchVersions } from '../etag.ts';
import type { AppEnv } from '../env.ts';
import { apiRoute, bearer, errors, HEADERS, jsonBody, jsonResponse } from '../openapi.ts';
import { respondOnce } from '../respond.ts';
import { BookIdParam, BookListSchema, BookSchema, BookWithStatsSchema, CreateBookSchema, IfMatchHeader, PageQuery, UpdateBookSchema } from '../schemas.ts';

const tags = ['Books'];

export function bookRoutes(core: CoreContext) {
  return new OpenAPIHono<AppEnv>()
    .openapi(
      apiRoute({
        method: 'post',
        path: '/coupons',
        tags,
        operationId: 'createBook',
        summary: 'Create a coupon book (admin)',
        security: bearer,
        request: jsonBody(CreateBookSchema),
        responses: { 201: jsonResponse(BookSchema, 'The book'), ...errors('post') },
      }),
      (c) => respondOnce(c, core, 201, (opts) => createBook(core, c.get('actor'), c.req.valid('json'), opts)),
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/coupons',
        tags,
        operationId: 'listBooks',
        summary: "List the tenant's books, newest first (admin)",
        security: bearer,
        request: { query: PageQuery },
        responses: { 200: jsonResponse(BookListSchema, 'A page of books'), ...errors('get') },
      }),
      async (c) => c.json(await listBooks(core, c.get('actor'), c.req.valid('query')), 200),
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/coupons/{bookId}',
        tags,
        operationId: 'getBook',
        summary: 'One book with live stats (admin)',
        security: bearer,
        request: { params: BookIdParam },
        responses: { 200: jsonResponse(BookWithStatsSchema, 'The book and its stats', { ETag: HEADERS.etag }), ...errors('get', 'BOOK_NOT_FOUND') },
      }),
      async (c) => {
        const book = await getBook(core, c.get('actor'), c.req.valid('param').bookId);
        c.header('ETag', etagOf(bookVersion(book)));
        return c.json(book, 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'patch',
        path: '/coupons/{bookId}',
        tags,
        operationId: 'updateBook',
        summary: 'Rename, change validity, pause or resume (admin)',
        description: 'Send `If-Match` with the `ETag` of your copy to refuse the edit (412) if the book changed since.',
        security: bearer,
        request: { params: BookIdParam, headers: IfMatchHeader, ...jsonBody(UpdateBookSchema) },
        responses: { 200: jsonResponse(BookSchema, 'The updated book', { ETag: HEADERS.etag }), ...errors('patch', ...updateBookRefusals.codes) },
      }),
      async (c) => {
        const ifVersion = ifMatchVersions(c.req.header('if-match'));
        const book = await updateBook(core, c.get('actor'), c.req.valid('param').bookId, c.req.valid('json'), { ifVersion });
        c.header('ETag', etagOf(bookVersion(book)));
        return c.json(book, 200);
      },
    );
}
