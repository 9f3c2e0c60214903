/** The compressed encodings a rendered document may be sent in. */
export type ContentCoding = 'br' | 'gzip';

/**
 * The coding to answer with, from the client's Accept-Encoding: among `offered`, the one
 * with the highest q above 0 (`x-gzip` counts as gzip, `*` stands for any coding not named),
 * ties going to the first offered; undefined for identity (no header, or all refused).
 */
export function negotiateEncoding(
  acceptEncoding: string | string[] | undefined,
  offered: readonly ContentCoding[] = ['br', 'gzip'],
): ContentCoding | undefined {
  const header = Array.isArray(acceptEncoding) ? acceptEncoding.join(',') : acceptEncoding;
  if (!header) return undefined;
  const q = new Map<string, number>();
  for (const item of header.split(',')) {
    const [name, ...params] = item.split(';').map((s) => s.trim().toLowerCase());
    if (!name) continue;
    const qParam = params.find((p) => p.startsWith('q='));
    const value = qParam ? Number(qParam.slice(2)) : 1;
    q.set(name === 'x-gzip' ? 'gzip' : name, Number.isNaN(value) ? 0 : value);
  }
  let best: ContentCoding | undefined;
  let bestQ = 0;
  for (const coding of offered) {
    const value = q.get(coding) ?? q.get('*') ?? 0;
    if (value > bestQ) [best, bestQ] = [coding, value];
  }
  return best;
}
