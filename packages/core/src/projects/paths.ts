/** GitLab's namespace/project path rule: what may stand in a URL segment. */
const PATH = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?$/;
const NAME = /^[\p{L}\p{N}_][\p{L}\p{N}\p{Emoji_Presentation}_ .+()-]*$/u;

export function pathProblem(path: string): string | null {
  if (path.length > 255) return 'is too long (maximum is 255 characters)';
  if (!PATH.test(path) || /\.(git|atom)$/i.test(path)) {
    return "can contain only letters, digits, '_', '-' and '.'. Cannot start with '-', end in '.git' or end in '.atom'";
  }
  return null;
}

export function nameProblem(name: string): string | null {
  if (name.length > 255) return 'is too long (maximum is 255 characters)';
  if (!NAME.test(name)) {
    return "can contain only letters, digits, emoji, '_', '.', '+', dashes, spaces and parentheses. It must start with a letter, digit, emoji, or '_'";
  }
  return null;
}

/** The path GitLab derives from a name when none is given. */
export function pathFromName(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
}
