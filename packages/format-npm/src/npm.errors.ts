import { HttpError } from '@stowage/core';

/** npm clients print the `error` field of a failed response; every npm route answers this shape. */
export function npmError(status: number, error: string): HttpError {
  return new HttpError(status, { error });
}

export const npmErrors = {
  badRequest: (error: string) => npmError(400, error),
  forbidden: (error = '403 Forbidden') => npmError(403, error),
  notFound: (subject = 'Package') => npmError(404, `404 ${subject} Not Found`),
  /** A protection rule holds the name back from this caller (GitLab's words; npm prints `error`). */
  protected: () => npmError(403, 'Package protected.'),
  deletionProtected: () => npmError(403, 'Package is deletion protected.'),
};
