/**
 * Reading a hand-written JSON file field by field (known findings, the
 * findings catalogue): every fault is one message that names the file and
 * the field, thrown as the caller's own error class (bad input: exit 2).
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export class JsonFieldReader {
  constructor(
    protected readonly where: string,
    private readonly errorOf: (message: string) => Error,
  ) {}

  fail(message: string): never {
    throw this.errorOf(`${this.where}: ${message}`);
  }

  /** An object with no field outside `fields`; with `required`, also every one of them. */
  object(value: Json | undefined, what: string, fields: readonly string[], required = false): Record<string, Json> {
    if (value === null || typeof value !== "object" || Array.isArray(value)) this.fail(`${what} must be an object`);
    const unknown = Object.keys(value).find((key) => !fields.includes(key));
    if (unknown !== undefined) this.fail(`${what}: unknown field '${unknown}' (known: ${fields.join(",")})`);
    const missing = required ? fields.find((field) => value[field] === undefined) : undefined;
    if (missing !== undefined) this.fail(`${what} lacks '${missing}'`);
    return value;
  }

  text(value: Json | undefined, what: string): string {
    if (typeof value !== "string" || value.trim() === "") this.fail(`'${what}' must be a non-empty string`);
    return value;
  }

  list(value: Json | undefined, what: string, nonEmpty: boolean): Json[] {
    if (!Array.isArray(value) || (nonEmpty && value.length === 0)) this.fail(`'${what}' must be a ${nonEmpty ? "non-empty " : ""}list`);
    return value;
  }

  texts(value: Json | undefined, what: string, allowed?: readonly string[]): string[] {
    if (!Array.isArray(value) || value.length === 0) this.fail(`'${what}' must be a non-empty list of strings`);
    return value.map((item) => {
      const text = this.text(item, what);
      if (allowed && !allowed.includes(text)) this.fail(`'${what}': unknown '${text}' (known: ${allowed.join(",")})`);
      return text;
    });
  }

  integer(value: Json | undefined, what: string, min: number): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min) this.fail(`'${what}' must be an integer >= ${min}`);
    return value;
  }

  boolean(value: Json | undefined, what: string): boolean {
    if (typeof value !== "boolean") this.fail(`'${what}' must be true or false`);
    return value;
  }
}
