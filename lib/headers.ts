/**
 * A header's value from HTTP headers or graphql-ws `connectionParams`, whose
 * keys keep whatever case a client chose: matched case-insensitively, the
 * first of repeated values, empty strings treated as absent.
 */
export function headerValue(source: unknown, name: string): string | undefined {
  if (!source || typeof source !== 'object') return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(source)) {
    if (key.toLowerCase() !== wanted) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string' && first !== '') return first;
  }
  return undefined;
}
