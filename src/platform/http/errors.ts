// The one error format of the API: { error: { code, message, details } } (see api.md).
export class AppError extends Error {
  constructor(
    public readonly statusCode: number,
    public readonly code: string,
    message: string,
    public readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface FieldProblem {
  field: string;
  message: string;
}

export const errors = {
  validation: (fields: FieldProblem[], message = 'Some fields are invalid.') =>
    new AppError(400, 'VALIDATION_FAILED', message, { fields }),
  badRequest: (message: string, details: Record<string, unknown> = {}) => new AppError(400, 'BAD_REQUEST', message, details),
  unauthorized: (message = 'Sign in first.') => new AppError(401, 'UNAUTHORIZED', message),
  forbidden: (operation: string) =>
    new AppError(403, 'FORBIDDEN', `This needs the system operation ${operation}.`, { operation }),
  forbiddenRecord: (message = 'You do not have access to this record.') => new AppError(403, 'FORBIDDEN', message),
  notFound: (what: string, id?: string) =>
    new AppError(404, 'NOT_FOUND', `${what} not found.`, id ? { id } : {}),
  conflict: (message: string, details: Record<string, unknown> = {}) => new AppError(409, 'CONFLICT', message, details),
  tooMany: (message: string, retryAfterSeconds?: number) =>
    new AppError(429, 'RATE_LIMITED', message, retryAfterSeconds ? { retryAfter: retryAfterSeconds } : {}),
  unprocessable: (code: string, message: string, details: Record<string, unknown> = {}) => new AppError(422, code, message, details),
  upstream: (code: string, message: string, details: Record<string, unknown> = {}) => new AppError(502, code, message, details),
};

export function errorBody(code: string, message: string, details: Record<string, unknown> = {}) {
  return { error: { code, message, details } };
}
