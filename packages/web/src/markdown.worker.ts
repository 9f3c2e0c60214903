// Parses a README's Markdown off the page's thread: marked has inputs that cost it quadratic
// time or overflow its stack, and the page must stay usable whatever a package carries. The
// page sanitizes the HTML (DOMPurify needs the DOM) and gives up on a parse that runs too long.
import { marked } from 'marked';

self.onmessage = (event: MessageEvent<string>) => {
  try {
    self.postMessage({ html: marked.parse(event.data, { async: false, gfm: true }) as string });
  } catch {
    self.postMessage({ html: null });
  }
};
