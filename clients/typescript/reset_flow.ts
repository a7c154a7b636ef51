// A full reset through the client generated from openapi/reset.v1.json (openapi-typescript types,
// openapi-fetch calls): request, read the mail file, verify, complete. Run by scripts/clients.sh
// with RESET_URL (the server) and RESET_MAIL_DIR (its file transport's folder).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import createClient from "openapi-fetch";
import type { paths } from "./generated/schema.d.ts";

const baseUrl = process.env.RESET_URL ?? "http://127.0.0.1:8080";
const mailDir = process.env.RESET_MAIL_DIR ?? "data/mail";
const client = createClient<paths>({ baseUrl });

function fail(message: string): never {
  console.error(`FAIL: ${message}`);
  process.exit(1);
}

async function newestToken(before: Set<string>): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const fresh = readdirSync(mailDir)
      .filter((f) => f.endsWith(".eml") && !before.has(f))
      .sort((a, b) => statSync(join(mailDir, a)).mtimeMs - statSync(join(mailDir, b)).mtimeMs);
    if (fresh.length > 0) {
      // Quoted-printable soft line breaks and `=3D` undone; the token is URL-safe base64.
      const raw = readFileSync(join(mailDir, fresh[fresh.length - 1]), "utf8")
        .replace(/=\r?\n/g, "")
        .replace(/=3D/g, "=");
      const match = raw.match(/reset-password\?token=([A-Za-z0-9_-]{43})/);
      if (match) return match[1];
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  fail(`no reset mail in ${mailDir}`);
}

const before = new Set(readdirSync(mailDir));
const requested = await client.POST("/v1/password-reset/request", {
  body: { username: "alice", delivery: "link" },
});
if (requested.response.status !== 202) fail(`request answered ${requested.response.status}`);

const token = await newestToken(before);
const verified = await client.POST("/v1/password-reset/verify", { body: { token } });
if (!verified.data?.valid) fail(`verify: ${JSON.stringify(verified.error)}`);

const weak = await client.POST("/v1/password-reset/complete", {
  body: { token, new_password: "alice" },
});
if (weak.error?.code !== "weak_password") fail(`a weak password was not refused: ${weak.response.status}`);

const done = await client.POST("/v1/password-reset/complete", {
  body: { token, new_password: "copper lantern drifts eastward" },
});
if (done.response.status !== 204) fail(`complete answered ${done.response.status}`);
console.log("typescript client: request, verify, complete: ok");
