import { readFileSync } from 'node:fs';
import { templatePath } from './install.js';
import Handlebars from 'handlebars';

/** A value as compose must see it to take it literally: `$` doubled (no interpolation). */
export function composeLiteral(value: string): string {
  return value.replaceAll('$', '$$$$'); // in a replacement string, $$ stands for one $
}

/**
 * Renders a compose file template. Values go in only through {{yaml value}},
 * which emits a double-quoted YAML scalar (a JSON string is one) with `$`
 * doubled, so compose takes it literally: no value can break out of its place
 * or be interpolated. The caller parses and checks the result.
 */
export function renderComposeYaml(name: string, values: object): string {
  const handlebars = Handlebars.create();
  handlebars.registerHelper('yaml', (value: unknown) => {
    if (typeof value !== 'string' && typeof value !== 'number') throw new Error(`template ${name}: {{yaml}} needs a string or number`);
    return JSON.stringify(composeLiteral(String(value)));
  });
  return handlebars.compile(readFileSync(templatePath(name), 'utf8'), { noEscape: true, strict: true })(values);
}

/**
 * Renders a plain-text template. Text output is not HTML, so nothing is
 * HTML-escaped; templates that emit YAML use the quoting helpers instead.
 */
export function renderText(name: string, values: object): string {
  const template = Handlebars.compile(readFileSync(templatePath(name), 'utf8'), { noEscape: true, strict: true });
  return template(values);
}
