// A package's README: Markdown rendered by marked on a worker (markdown.worker.ts), then
// sanitized by DOMPurify here. Links keep only http(s) and mailto targets and never carry the
// page's opener or referrer; nothing may take a class of the page's own (to pass for its
// header or a dialog) or open above it.
import DOMPurify from 'dompurify';

/** A parse that takes longer is stopped, and the README shown as text. */
const PARSE_TIMEOUT_MS = 3000;
/**
 * HTML past this size is not put in the page (shown as text instead): Markdown's reference
 * links let 64 KiB of text become hundreds of megabytes, which sanitizing and layout would
 * spend seconds of the page's thread on.
 */
const MAX_HTML_CHARS = 1_000_000;
/** Images kept in one README; past it they are dropped (each costs the page a fetch and a layout). */
const MAX_IMAGES = 100;

const SAFE_LINK = /^(https?:|mailto:)$/i;

/** A link target as the browser resolves it, from this page: http(s) and mailto only. */
function safeHref(href: string): boolean {
  try {
    // The URL parser normalizes what a browser would (tabs, newlines, case) before the check.
    return SAFE_LINK.test(new URL(href, window.location.href).protocol);
  } catch {
    return false;
  }
}

/** An image this page may load at all (its CSP allows this origin and data: only). */
function loadableImage(src: string): boolean {
  try {
    const url = new URL(src, window.location.href);
    return url.origin === window.location.origin || url.protocol === 'data:';
  } catch {
    return false;
  }
}

let images = 0;

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    const href = node.getAttribute('href');
    if (href !== null && !safeHref(href)) node.removeAttribute('href');
    node.removeAttribute('target');
    node.setAttribute('rel', 'noopener noreferrer nofollow');
  }
  if (node.tagName === 'IMG') {
    const src = node.getAttribute('src');
    if (src === null || !loadableImage(src) || ++images > MAX_IMAGES) node.remove();
  }
  for (const attr of ['xlink:href', 'formaction', 'action', 'srcset']) node.removeAttribute(attr);
});

function sanitize(html: string): string {
  images = 0;
  return DOMPurify.sanitize(html, {
    // Nothing that acts, embeds, or passes for the page's own parts (its header, navigation, dialogs).
    FORBID_TAGS: [
      'style',
      'form',
      'input',
      'button',
      'textarea',
      'select',
      'iframe',
      'object',
      'embed',
      'svg',
      'math',
      'dialog',
      'video',
      'audio',
      'source',
      'track',
      'picture',
      'header',
      'nav',
      'footer',
      'main',
      'aside',
    ],
    // No class or id of the page's (its styles, its landmarks' names), no roles or ARIA passing for its dialogs.
    FORBID_ATTR: ['style', 'class', 'id', 'name', 'role', 'popover', 'popovertarget', 'popovertargetaction', 'autofocus', 'tabindex'],
    ALLOW_ARIA_ATTR: false,
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
      resolve(html === null || html.length > MAX_HTML_CHARS ? null : sanitize(html));
    };
    const timer = setTimeout(() => done(null), PARSE_TIMEOUT_MS);
    worker.onmessage = (event: MessageEvent<{ html: string | null }>) => done(event.data.html);
    worker.onerror = () => done(null);
    worker.postMessage(markdown);
  });
}
