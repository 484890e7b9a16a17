import type { SdpAttribute } from './types.js';

type HasAttributes = { attributes: SdpAttribute[] };

/** The first value of attribute `name` ('' for a flag), undefined when absent. */
export function getAttribute(a: HasAttributes, name: string): string | undefined {
  for (const attr of a.attributes) if (attr.name === name) return attr.value ?? '';
  return undefined;
}

/** Every value of attribute `name`, in order ('' for flags). */
export function getAttributes(a: HasAttributes, name: string): string[] {
  const out: string[] = [];
  for (const attr of a.attributes) if (attr.name === name) out.push(attr.value ?? '');
  return out;
}

export function hasAttribute(a: HasAttributes, name: string): boolean {
  for (const attr of a.attributes) if (attr.name === name) return true;
  return false;
}
