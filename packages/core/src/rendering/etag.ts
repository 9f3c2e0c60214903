/**
 * Whether an If-None-Match header names `etag` (a quoted entity tag, strong or `W/` weak):
 * `*`, or any listed tag under the weak comparison RFC 9110 prescribes for this header (the
 * `W/` prefix is ignored on both sides). The one parser of the header: file downloads and
 * rendered documents both answer 304 through it.
 */
export function etagMatches(header: string | string[] | undefined, etag: string): boolean {
  if (!header) return false;
  const wanted = opaque(etag);
  const list = Array.isArray(header) ? header.join(',') : header;
  return list.split(',').some((t) => {
    const v = t.trim();
    return v === '*' || opaque(v) === wanted;
  });
}

function opaque(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}
