// A package's README: Markdown rendered by marked on a worker (markdown.worker.ts), then
// sanitized by DOMPurify here. Links keep only http(s) and mailto targets and never carry the
// page's opener or referrer; nothing may take a class of the page's own (to pass for its
// header or a dialog) or open above it.
import DOMPurify from 'dompurify';

/** A parse that takes longer is stopped, and the README shown as text. */
const PARSE_TIMEOUT_MS = 3000;

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

function sanitize(html: string): string {
  return DOMPurify.sanitize(html, {
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'object', 'embed', 'svg', 'math', 'dialog'],
    FORBID_ATTR: ['style', 'class', 'popover', 'popovertarget', 'popovertargetaction', 'autofocus', 'tabindex'],
    ALLOW_DATA_ATTR: false,
  });
}

/** The README as sanitized HTML, or null when it could not be parsed in time (show it as text). */
export function renderMarkdown(markdown: string): Promise<string | null> {
  return new Promise((resolve) => {
    const worker = new Worker(new URL('./markdown.worker.ts', import.meta.url), { type: 'module' });
    const done = (html: string | null) => {
      clearTimeout(timer);
      worker.terminate();
      resolve(html === null ? null : sanitize(html));
    };
    const timer = setTimeout(() => done(null), PARSE_TIMEOUT_MS);
    worker.onmessage = (event: MessageEvent<{ html: string | null }>) => done(event.data.html);
    worker.onerror = () => done(null);
    worker.postMessage(markdown);
  });
}
