/** Every error the engine throws on purpose: a stable code, what happened, and how to fix it. */
export class ChorusError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
