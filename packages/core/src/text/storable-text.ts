/**
 * What PostgreSQL cannot store in text or jsonb: U+0000, and half of a UTF-16 surrogate pair
 * (it has no UTF-8 form; jsonb refuses the `\ud800` escape). A client can send either (a JSON
 * escape, a form field in UTF-16); refused at the door, neither reaches an INSERT as a 500.
 */
export const UNSTORABLE_TEXT = {
  nul: 'a NUL character (\\u0000)',
  surrogate: 'an unpaired UTF-16 surrogate (\\ud800-\\udfff)',
} as const;

export type UnstorableText = keyof typeof UNSTORABLE_TEXT;

/** Which character keeps `text` out of PostgreSQL, or null when it can be stored. */
export function unstorableText(text: string): UnstorableText | null {
  if (text.includes('\0')) return 'nul';
  return isWellFormed(text) ? null : 'surrogate';
}

// String.prototype.isWellFormed (Node 20) is not in TypeScript's ES2023 lib.
const isWellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed();
