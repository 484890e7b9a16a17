/** An error with a stable code, so callers and tests match on codes, not messages. */
export class TurnError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'TurnError';
    this.code = code;
  }
}
