// Secrets a request carries, and every way one could reach a log line: a query parameter in
// any spelling a query parser decodes to a token name (`private%5Ftoken`, `%70rivate_token`,
// `PRIVATE_TOKEN`, repeated), a credential header (PRIVATE-TOKEN, Authorization, cookies, a
// format's own such as X-NuGet-ApiKey) in any object logged, Basic/Bearer values and URL
// user-info in free text (error messages, stacks), and the token secrets Stowage issues,
// recognisable by their prefix wherever they appear. Names are judged after decoding.

export const CENSOR = '[redacted]';

/** `+` and `%XX` decoded (repeatedly: what is logged is read by people, who decode too). */
function decoded(raw: string): string {
  let text = raw;
  for (let i = 0; i < 3; i++) {
    const next = text.replace(/\+/g, ' ').replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    if (next === text) break;
    text = next;
  }
  return text;
}

const decodedName = (raw: string) => decoded(raw).toLowerCase();

const SECRET_NAME = /token|secret|passw|api[-_ ]?key|authori[sz]ation|cookie|credential|signature|(?:^|[-_ .])auth(?:$|[-_ .])/;

/** Credential headers format plugins declare (their credentialHeaders), lower case. */
const declaredNames = new Set<string>();

export function addSecretNames(names: Iterable<string>): void {
  for (const name of names) declaredNames.add(name.toLowerCase());
}

/**
 * Whether a parameter, header or field of this name holds a credential: every name the auth
 * code accepts (private_token, job_token, PRIVATE-TOKEN, JOB-TOKEN, DEPLOY-TOKEN,
 * Authorization, a format's credentialHeaders such as X-NuGet-ApiKey) and their kin.
 */
export function isSecretName(name: string): boolean {
  const decoded = decodedName(name);
  return SECRET_NAME.test(decoded) || declaredNames.has(decoded);
}

/** The prefixes of generated secrets (token-secret.ts). */
const ISSUED_TOKEN = /\bstw(?:pat|dt|jt|ses)-[A-Za-z0-9]{8,}/g;
/**
 * `scheme://user@` or `scheme://user:password@`. A password may hold what a URL may not (`/`
 * went through as written in a request target), so after `user:` it runs to the `@`, unless
 * what follows the colon is a port (`http://h:8080/npm/@scope/x` keeps its path).
 */
const USER_INFO = /\b([a-z][a-z0-9+.-]*:\/\/)(?:[^/\s@?#:]*:(?![0-9]*(?:[/?#\s]|$))[^\s@]*|[^/\s@?#]+)@/gi;
const AUTH_SCHEME = /\b(basic|bearer)(\s+)[A-Za-z0-9._~+/=-]{8,}/gi;
const NAME_VALUE = /([^\s=&?#;:,"'<>(){}[\]]+)(=|:[ \t]*)([^\s&#;,"'<>]*)/g;
/** `Name: value` on a line of its own (a header in a raw request): the value runs to the line's end. */
const HEADER_LINE = /^([A-Za-z0-9_-]+)(:[ \t]*)(.+)$/gm;

/**
 * Each `name=value`, split at `&`, `;` and a stray `?` (`?x=1?private_token=…` is one value to
 * a query parser, two pairs to a reader); a value whose decoded text carries a credential
 * (`q=1%26private_token%3D…`) goes whole.
 */
function redactQuery(query: string): string {
  return query.replace(/([^&?;=]*)=([^&?;]*)/g, (all, name: string, value: string) => {
    const text = decoded(value);
    return isSecretName(name) || redactText(text) !== text ? `${name}=${CENSOR}` : all;
  });
}

/** A request URL with every credential parameter's value (and any user-info) replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  const path = (q < 0 ? url : url.slice(0, q)).replace(USER_INFO, `$1${CENSOR}@`);
  return (q < 0 ? path : `${path}?${redactQuery(url.slice(q + 1))}`).replace(ISSUED_TOKEN, CENSOR);
}

/** Free text (a message, a stack) with credentials in it replaced. */
export function redactText(text: string): string {
  return text
    .replace(HEADER_LINE, (all, name: string, sep: string) => (isSecretName(name) ? `${name}${sep}${CENSOR}` : all))
    .replace(USER_INFO, `$1${CENSOR}@`)
    .replace(AUTH_SCHEME, `$1$2${CENSOR}`)
    .replace(NAME_VALUE, (all, name: string, sep: string, value: string) =>
      // `Authorization: Bearer x`: the scheme stays, its value went with AUTH_SCHEME.
      value && !/^(?:basic|bearer|\[redacted\])$/i.test(value) && isSecretName(name) ? `${name}${sep}${CENSOR}` : all,
    )
    .replace(ISSUED_TOKEN, CENSOR);
}

const looksLikeUrl = (s: string) => /^(?:\/|[a-z][a-z0-9+.-]*:\/\/)\S*$/i.test(s);

function redactValue(value: unknown, key?: string): unknown {
  if (key !== undefined && isSecretName(key) && (typeof value === 'string' || (typeof value === 'object' && value !== null))) return CENSOR;
  if (typeof value === 'string') return redactText(looksLikeUrl(value) ? redactUrl(value) : value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, k)]));
  return value;
}

/**
 * One serialized pino line with every credential replaced (pino's `streamWrite` hook, so it
 * sees exactly what is written: every key of every object logged, messages, error stacks).
 */
export function redactLogLine(line: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return redactText(line);
  }
  return `${JSON.stringify(redactValue(parsed))}\n`;
}
