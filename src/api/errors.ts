/** An error the API answers with: a status, a stable code and a message a person can act on. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly extra: Record<string, unknown> = {}) {
    super(message);
  }

  get body(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.extra };
  }
}

export const notFound = (what: string, id: string): ApiError => new ApiError(404, 'not-found', `no ${what} '${id}' (or not yours to see)`);
export const forbidden = (message: string): ApiError => new ApiError(403, 'forbidden', message);
