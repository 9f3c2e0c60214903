import { ApiParams } from '../http/api-params';
import { httpErrors } from '../http/http-error';
import type { DuplicateSettings } from '../packages/package-settings.service';
import { exceptionRegexProblem } from '../packages/package-settings.service';

/**
 * `{"<format>_duplicates_allowed": false, "<format>_duplicate_exception_regex": "…"}`, the
 * field names of GitLab's namespace package settings, for each enabled format.
 */
export function settingsPatch(formats: string[], query: unknown, body: unknown): Map<string, Partial<DuplicateSettings>> {
  const p = new ApiParams(query, body);
  const patches = new Map<string, Partial<DuplicateSettings>>();
  for (const f of formats) {
    const patch: Partial<DuplicateSettings> = {};
    const allowed = p.boolean(`${f}_duplicates_allowed`);
    if (allowed !== undefined) patch.duplicates_allowed = allowed;
    if (p.has(`${f}_duplicate_exception_regex`)) {
      const regex = p.string(`${f}_duplicate_exception_regex`) ?? '';
      const problem = exceptionRegexProblem(regex);
      if (problem) throw httpErrors.invalidParam(`${f}_duplicate_exception_regex`, problem);
      patch.duplicate_exception_regex = regex;
    }
    if (Object.keys(patch).length) patches.set(f, patch);
  }
  return patches;
}

export function settingsJson(entries: [string, DuplicateSettings][]) {
  const out: Record<string, unknown> = {};
  for (const [f, s] of entries) {
    out[`${f}_duplicates_allowed`] = s.duplicates_allowed;
    out[`${f}_duplicate_exception_regex`] = s.duplicate_exception_regex;
  }
  return out;
}
