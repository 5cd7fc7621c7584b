export { listBookCodes, BOOK_CODES_DEFAULT_LIMIT, BOOK_CODES_MAX_LIMIT, BOOK_CODES_EXAMINE_BUDGET, type ListBookCodesInput, type BookCodesPage } from './list-book-codes.ts';
export { BOOK_CODE_STATUSES, type BookCodeRow, type BookCodeStatus } from './book-code-row.ts';
