/**
 * Bech32 (BIP 173, not bech32m) as age uses it for `age1…` recipients and
 * `AGE-SECRET-KEY-1…` identities. Unlike BIP 173 there is no 90-character limit,
 * matching age's own decoder; the strings age produces are far shorter anyway.
 */

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: readonly number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) {
      if ((top >>> i) & 1) chk ^= GENERATOR[i] as number;
    }
  }
  return chk >>> 0;
}

function hrpExpand(hrp: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < hrp.length; i++) out.push(hrp.charCodeAt(i) >>> 5);
  out.push(0);
  for (let i = 0; i < hrp.length; i++) out.push(hrp.charCodeAt(i) & 31);
  return out;
}

function convertBits(data: Uint8Array | readonly number[], from: number, to: number, pad: boolean): number[] | undefined {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const maxv = (1 << to) - 1;
  for (const value of data) {
    if (value < 0 || value >> from !== 0) return undefined;
    acc = (acc << from) | value;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >>> bits) & maxv);
    }
    acc &= (1 << bits) - 1;
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & maxv);
  } else if (bits >= from || ((acc << (to - bits)) & maxv) !== 0) {
    // Non-zero padding or a whole spare group: not a canonical encoding.
    return undefined;
  }
  return out;
}

/** Encode bytes under a human-readable part. The result is lowercase. */
export function bech32Encode(hrp: string, data: Uint8Array): string {
  const lowerHrp = hrp.toLowerCase();
  const words = convertBits(data, 8, 5, true) as number[];
  const values = [...hrpExpand(lowerHrp), ...words, 0, 0, 0, 0, 0, 0];
  const mod = polymod(values) ^ 1;
  let out = `${lowerHrp}1`;
  for (const w of words) out += CHARSET[w];
  for (let i = 0; i < 6; i++) out += CHARSET[(mod >>> (5 * (5 - i))) & 31];
  return out;
}

/**
 * Decode a bech32 string. Returns `undefined` for anything malformed (mixed case,
 * bad checksum, bad characters) so callers can word their own error without
 * echoing what may be a secret key.
 */
export function bech32Decode(s: string): { hrp: string; data: Uint8Array } | undefined {
  if (s !== s.toLowerCase() && s !== s.toUpperCase()) return undefined;
  const lower = s.toLowerCase();
  const sep = lower.lastIndexOf('1');
  if (sep < 1 || sep + 7 > lower.length) return undefined;
  const hrp = lower.slice(0, sep);
  for (let i = 0; i < hrp.length; i++) {
    const c = hrp.charCodeAt(i);
    if (c < 33 || c > 126) return undefined;
  }
  const values: number[] = [];
  for (const ch of lower.slice(sep + 1)) {
    const v = CHARSET.indexOf(ch);
    if (v === -1) return undefined;
    values.push(v);
  }
  if (polymod([...hrpExpand(hrp), ...values]) !== 1) return undefined;
  const bytes = convertBits(values.slice(0, -6), 5, 8, false);
  if (bytes === undefined) return undefined;
  return { hrp, data: Uint8Array.from(bytes) };
}
