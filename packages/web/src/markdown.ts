// A package's README: Markdown rendered by marked, then sanitized by DOMPurify. Links keep only
// http(s) and mailto targets and never carry the page's opener or referrer.
import DOMPurify from 'dompurify';
import { marked } from 'marked';

const SAFE_LINK = /^(https?:|mailto:)/i;

function safeHref(href: string): boolean {
  try {
    // The URL parser normalizes what a browser would (tabs, newlines, case) before the check.
    return SAFE_LINK.test(new URL(href).protocol);
  } catch {
    return false;
  }
}

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    const href = node.getAttribute('href');
    if (href !== null && !safeHref(href)) node.removeAttribute('href');
    node.removeAttribute('target');
    node.setAttribute('rel', 'noopener noreferrer nofollow');
  }
  for (const attr of ['xlink:href', 'formaction', 'action']) node.removeAttribute(attr);
});

export function renderMarkdown(markdown: string): string {
  const html = marked.parse(markdown, { async: false, gfm: true }) as string;
  return DOMPurify.sanitize(html, {
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'object', 'embed', 'svg', 'math'],
    FORBID_ATTR: ['style'],
    ALLOW_DATA_ATTR: false,
  });
}
