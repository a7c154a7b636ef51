// Unleash's reset pages, request for request, against the Unleash dialect. Each `fetch` below is
// the one in Unleash's frontend (frontend/src/…, copied with only `formatApiPath` replaced by
// the server's origin), and each answer is read as the page reads it:
//   component/user/ForgottenPassword/ForgottenPassword.tsx       POST auth/reset/password-email
//   hooks/api/getters/useResetPassword/useResetPassword.ts        GET  auth/reset/validate?token=
//   component/user/common/PasswordRequirementsChecker/…tsx        POST auth/reset/validate-password
//   hooks/api/actions/useAuthResetPasswordApi + useApi            POST auth/reset/password
// Reads RESET_URL and RESET_MAIL_DIR; run by scripts/real-clients.sh. No dependencies.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const origin = (process.env.RESET_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const mailDir = process.env.RESET_MAIL_DIR ?? 'data/mail';
const email = process.env.RESET_EMAIL ?? 'alice@example.com';
const formatApiPath = (path) => `${origin}/${path}`;

function fail(message) {
  console.error(`FAIL (Unleash's reset page): ${message}`);
  process.exit(1);
}

const mails = () => new Set(readdirSync(mailDir).filter((f) => f.endsWith('.eml')));

async function tokenAfter(before) {
  for (let i = 0; i < 100; i++) {
    for (const name of [...mails()].filter((f) => !before.has(f))) {
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

// ForgottenPassword.tsx onSubmit: 429 is "too many attempts", anything else "attempted".
async function forgottenPassword(email) {
  const path = formatApiPath('auth/reset/password-email');
  const res = await fetch(path, {
    headers: {
      'Content-Type': 'application/json',
    },
    method: 'POST',
    body: JSON.stringify({ email }),
  });
  return res.status === 429 ? 'too_many_attempts' : 'attempted';
}

// useResetPassword.ts getFetcher + isValidToken.
async function isValidToken(token) {
  const path = formatApiPath(`auth/reset/validate?token=${token}`);
  const data = await fetch(path, {
    method: 'GET',
  }).then((res) => res.json());
  return !(data?.name === 'InvalidTokenError' || data?.name === 'UsedTokenError');
}

// PasswordRequirementsChecker.tsx: the local rules, then the server once they pass.
const REQUIREMENTS = [
  (p) => p.length >= 10,
  (p) => /[a-z]/.test(p) && /[A-Z]/.test(p),
  (p) => /\d/.test(p),
  (p) => /[^A-Za-z0-9]/.test(p),
  (p) => !/(.)\1\1/.test(p),
];
/** `{valid, serverErrors}` as the checker leaves them for `password`. */
async function checkPassword(password) {
  if (!password || !REQUIREMENTS.every((test) => test(password))) {
    return { valid: false, serverErrors: [], asked: false };
  }
  const res = await fetch(formatApiPath('auth/reset/validate-password'), {
    headers: { 'Content-Type': 'application/json' },
    method: 'POST',
    body: JSON.stringify({ password }),
  });
  if (res.status === 200) return { valid: true, serverErrors: [], asked: true };
  if (res.status === 400) {
    const data = await res.json();
    return { valid: false, serverErrors: data.details?.[0]?.validationErrors ?? [], asked: true };
  }
  return fail(`validate-password answered ${res.status}, which the page ignores`);
}

// useAuthResetPasswordApi.resetPassword through useApi's createRequest/makeRequest
// (headers, credentials) and ResetPassword.tsx onSubmit: OK navigates to the success page;
// an error shows `details[0].message || message`.
async function resetPassword(token, password) {
  const res = await fetch(formatApiPath('auth/reset/password'), {
    headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
    credentials: 'include',
    method: 'POST',
    body: JSON.stringify({ token, password }),
  });
  if (res.status === 200) return { ok: true };
  const body = await res.json();
  return { ok: false, status: res.status, shown: body.details?.[0]?.message || body.message };
}

if ((await forgottenPassword('nobody@example.com')) !== 'attempted') fail('unknown address not "attempted"');
const before = mails();
if ((await forgottenPassword(email)) !== 'attempted') fail('known address not "attempted"');
const token = await tokenAfter(before);

if (!(await isValidToken(token))) fail('the fresh link shows the invalid-token page');
if (await isValidToken('nope')) fail('a wrong token shows the form');

// Typing a password Unleash's own rules accept but the service's policy refuses: the server's
// reasons appear as extra requirements, the button stays disabled.
const guessable = await checkPassword('Password1!');
if (!guessable.asked || guessable.valid || guessable.serverErrors.length === 0) {
  fail(`a guessable password: ${JSON.stringify(guessable)}`);
}
// Typing a good one, one character at a time: the last answer enables the button.
const password = 'DtUYwi&l5I1KX4@Le';
let state;
for (let end = 1; end <= password.length; end++) state = await checkPassword(password.slice(0, end));
if (!state.valid) fail(`"Set new password" stays disabled: ${JSON.stringify(state)}`);

const done = await resetPassword(token, password);
if (!done.ok) fail(`reset: ${JSON.stringify(done)}`);
if (await isValidToken(token)) fail('the used link still shows the form');
const again = await resetPassword(token, password);
if (again.ok || again.status !== 401 || !again.shown) fail(`reset with a used token: ${JSON.stringify(again)}`);

console.log("Unleash's reset page: every request it makes is answered as it expects");
