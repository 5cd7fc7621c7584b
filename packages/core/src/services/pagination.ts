import { AppError } from '../errors.ts';

/**
 * Runs one page of a list. A cursor is opaque to clients; one that is not
 * from this list (garbage, or forged to point elsewhere) is a 400, never a 500.
 */
export async function readPage<T>(query: () => Promise<T>): Promise<T> {
  try {
    return await query();
  } catch (e) {
    const name = (e as { name?: string }).name;
    if (name === 'ElectroError' || name === 'ValidationException' || (e as { cause?: { name?: string } }).cause?.name === 'ValidationException') {
      throw new AppError('VALIDATION_FAILED', 'The cursor is not valid for this list.', {
        details: [{ field: 'cursor', reason: 'not a cursor from this list' }],
      });
    }
    throw e;
  }
}
