/**
 * Joins byte arrays into one (a head and a small body, so they leave in one write). When
 * only one of them holds bytes it is returned as it is, without a copy.
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  let only: Uint8Array | undefined;
  let nonEmpty = 0;
  for (const p of parts) {
    total += p.length;
    if (p.length > 0) {
      only = p;
      nonEmpty++;
    }
  }
  if (nonEmpty <= 1) return only ?? new Uint8Array(0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
