/**
 * One catalogue of the errors edge-pothole raises on purpose. Each has a stable code that
 * scripts and tests can match, and a message that names the bad thing and the fix.
 */
export type ErrorCode =
  | 'EP_CONFIG_INVALID'
  | 'EP_IMAGE_UNREADABLE'
  | 'EP_MODEL_INVALID'
  | 'EP_BACKBONE_UNAVAILABLE'
  | 'EP_DATASET_INVALID'
  | 'EP_SOURCE_INVALID'
  | 'EP_SOURCE_FAILED'
  | 'EP_USAGE'
  | 'EP_ENGINE_UNAVAILABLE'
  | 'EP_EXPORT_MISMATCH';

export class EdgePotholeError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EdgePotholeError';
    this.code = code;
  }
}

/** The message of anything thrown, for logs and CLI output. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;

  return String(err);
}

/** True when `err` is ours and carries `code`. */
export function hasCode(err: unknown, code: ErrorCode): boolean {
  return err instanceof EdgePotholeError && err.code === code;
}
