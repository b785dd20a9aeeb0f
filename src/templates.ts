import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';

/** The templates/ folder shipped beside dist/ (people may read and change them). */
export function templatePath(name: string): string {
  return fileURLToPath(new URL(`../templates/${name}`, import.meta.url));
}

/**
 * Renders a plain-text template. Text output is not HTML, so nothing is
 * HTML-escaped; templates that emit YAML use the quoting helpers instead.
 */
export function renderText(name: string, values: object): string {
  const template = Handlebars.compile(readFileSync(templatePath(name), 'utf8'), { noEscape: true, strict: true });
  return template(values);
}
