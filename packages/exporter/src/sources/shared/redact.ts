/** Query parameters that carry credentials by name, whatever their value. */
const SECRET_PARAM_NAMES = new Set([
  'token',
  'access_token',
  'auth_token',
  'id_token',
  'refresh_token',
  'client_secret',
  'api_key',
  'apikey',
  'password',
  'sig',
  'signature',
]);

/** Slack tokens: xoxb-, xoxp-, xoxe-, xoxa-, xoxs-, xoxr-, xoxc-, xoxd- and the like. */
const SLACK_TOKEN = /xox[a-z0-9]?-[A-Za-z0-9._~%+/=-]*/gi;
const LOOKS_LIKE_TOKEN = /xox[a-z0-9]?-/i;

function isSecretParam(name: string, value: string): boolean {
  return SECRET_PARAM_NAMES.has(name.toLowerCase()) || /^xox/i.test(value) || LOOKS_LIKE_TOKEN.test(value);
}

/**
 * A link with its secrets removed: user info, query parameters named like credentials
 * or whose value is a Slack token (`?t=xoxe-…`), a fragment holding either. Returns
 * `undefined` for anything that is not an absolute URL, and for a URL that still holds
 * a token somewhere (in the path, say): a missing link is better than a leaked token.
 */
export function stripUrlSecrets(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || raw.trim() === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return undefined;
  }
  url.username = '';
  url.password = '';
  const kept = new URLSearchParams();
  for (const [name, value] of url.searchParams) {
    if (!isSecretParam(name, value)) kept.append(name, value);
  }
  url.search = kept.toString();
  if (LOOKS_LIKE_TOKEN.test(url.hash) || /token|secret|key=/i.test(url.hash)) url.hash = '';
  const clean = url.toString();
  return LOOKS_LIKE_TOKEN.test(decodeURIComponentSafe(clean)) ? undefined : clean;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Text for error messages with Slack tokens masked: parse errors can quote the input. */
export function redactSecrets(text: string): string {
  return text.replace(SLACK_TOKEN, '[redacted token]');
}
