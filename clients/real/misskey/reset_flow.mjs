// misskey-js, Misskey's own SDK, unchanged, against the Misskey dialect: request a link for an
// unknown account and a known one (both resolve alike), set a weak password (refused as Misskey
// errors are surfaced), set a good one, then the used token fails. Reads RESET_URL (the server)
// and RESET_MAIL_DIR (its file transport's folder); run by scripts/real-clients.sh.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as Misskey from 'misskey-js';

const origin = process.env.RESET_URL ?? 'http://127.0.0.1:8080';
const mailDir = process.env.RESET_MAIL_DIR ?? 'data/mail';
const username = process.env.RESET_USERNAME ?? 'alice';
const email = process.env.RESET_EMAIL ?? 'alice@example.com';
const STRONG = 'violet tractor melts quietly';

function fail(message) {
  console.error(`FAIL (misskey-js): ${message}`);
  process.exit(1);
}

const mails = () => new Set(readdirSync(mailDir).filter((f) => f.endsWith('.eml')));

/** The link token in the first new message: its quoted-printable text decoded. */
async function tokenAfter(before) {
  for (let i = 0; i < 100; i++) {
    const fresh = [...mails()].filter((f) => !before.has(f));
    for (const name of fresh) {
      const text = readFileSync(join(mailDir, name), 'utf8')
        .replace(/=\r?\n/g, '')
        .replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
      const found = text.match(/reset-password\?token=([A-Za-z0-9_-]{43})/);
      if (found) return found[1];
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return fail(`no reset mail in ${mailDir}`);
}

/** The rejection misskey-js gives for an error answer: `{code, id, message, ...}`, marked. */
async function apiError(promise, what) {
  try {
    await promise;
  } catch (e) {
    if (Misskey.api.isAPIError(e)) return e;
    return fail(`${what}: not a Misskey API error: ${e}`);
  }
  return fail(`${what}: resolved, expected an error`);
}

const api = new Misskey.api.APIClient({ origin });

// No account behind these: resolves exactly like a known one (204, no body), sends nothing.
let before = mails();
for (const params of [
  { username: 'nobody', email: 'nobody@example.com' },
  { username, email: 'someone-else@example.com' },
]) {
  const answer = await api.request('request-reset-password', params);
  if (answer !== null) fail(`request-reset-password answered ${JSON.stringify(answer)}`);
}
await new Promise((resolve) => setTimeout(resolve, 500));
if ([...mails()].some((f) => !before.has(f))) fail('a message was sent for a mismatched request');

before = mails();
const answer = await api.request('request-reset-password', { username, email });
if (answer !== null) fail(`request-reset-password answered ${JSON.stringify(answer)}`);
const token = await tokenAfter(before);

const weak = await apiError(api.request('reset-password', { token, password: username }), 'a weak password');
if (weak.code !== 'WEAK_PASSWORD' || !Array.isArray(weak.info?.violations)) {
  fail(`a weak password: ${JSON.stringify(weak)}`);
}

const done = await api.request('reset-password', { token, password: STRONG });
if (done !== null) fail(`reset-password answered ${JSON.stringify(done)}`);

const again = await apiError(api.request('reset-password', { token, password: `${STRONG} again` }), 'a used token');
if (again.code !== 'INVALID_TOKEN' || again.id !== '8a1c4f0e-6b2d-4c3e-9f7a-5d1e2b3c4a61') {
  fail(`a used token: ${JSON.stringify(again)}`);
}

const invalid = await apiError(api.request('request-reset-password', { username }), 'a missing email');
if (invalid.code !== 'INVALID_PARAM') fail(`a missing email: ${JSON.stringify(invalid)}`);

console.log('misskey-js: request-reset-password and reset-password work unchanged');
