/**
 * Templates (templates/linux/*): values enter only as declared parameters. The first `# netdbg-params:` line
 * declares them; every `{{name}}` must be declared and given, and each value must match its parameter's
 * pattern (so nothing can break out of the file's syntax). The declaration line is dropped from the output.
 */
export const PARAM_PATTERNS: Record<string, RegExp> = {
  module: /^\/[A-Za-z0-9._/-]+$/,
  device_name: /^[A-Za-z0-9_.:-]{1,15}$/,
  udp_port: /^[1-9][0-9]{0,4}$/,
  force_single_core: /^[01]$/,
  release_kgdboc: /^[01]$/,
};

export class TemplateError extends Error {}

export function renderTemplate(text: string, params: Record<string, string>): string {
  const decl = /^# netdbg-params:(.*)$/m.exec(text);
  if (!decl) throw new TemplateError("template has no '# netdbg-params:' line");
  const declared = new Set(decl[1]!.trim().startsWith("(") ? [] : decl[1]!.trim().split(/\s+/).filter(Boolean));
  for (const name of declared) {
    const v = params[name];
    if (v === undefined) throw new TemplateError(`parameter '${name}' is declared but not given`);
    const re = PARAM_PATTERNS[name];
    if (!re) throw new TemplateError(`parameter '${name}' has no value pattern`);
    if (!re.test(v)) throw new TemplateError(`value for '${name}' does not match ${re}`);
  }
  for (const name of Object.keys(params)) if (!declared.has(name)) throw new TemplateError(`parameter '${name}' is not declared`);
  return text.replace(/^# netdbg-params:.*\n/m, "").replace(/\{\{([a-z_]+)\}\}/g, (_, name: string) => {
    if (!declared.has(name)) throw new TemplateError(`placeholder '${name}' is not declared`);
    return params[name]!;
  });
}
