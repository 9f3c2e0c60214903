import { randomUUID } from 'node:crypto';

/** Fresh keys spread over 65,536 directories: `ab/cd/<uuid>`. */
export function newStorageKey(): string {
  const id = randomUUID();
  const hex = id.replace(/-/g, '');
  return `${hex.slice(0, 2)}/${hex.slice(2, 4)}/${id}`;
}
