"""A full reset through the client generated from openapi/reset.v1.json by openapi-python-client:
request, read the mail file, verify, complete. Run by scripts/clients.sh with RESET_URL (the
server) and RESET_MAIL_DIR (its file transport's folder), the generated package on PYTHONPATH."""

import email
import email.policy
import os
import re
import sys
import time
from pathlib import Path

from reset_client import Client
from reset_client.api.self_service import (
    complete_password_reset,
    request_password_reset,
    verify_password_reset,
)
from reset_client.models import CompleteTokenBody, Problem, ResetRequestBody, TokenBody, VerifyResponse

BASE = os.environ.get("RESET_URL", "http://127.0.0.1:8080")
MAIL = Path(os.environ.get("RESET_MAIL_DIR", "data/mail"))


def fail(message: str) -> None:
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def newest_token(before: set[str]) -> str:
    for _ in range(100):
        fresh = sorted((p for p in MAIL.glob("*.eml") if p.name not in before), key=lambda p: p.stat().st_mtime)
        if fresh:
            message = email.message_from_bytes(fresh[-1].read_bytes(), policy=email.policy.default)
            text = message.get_body(preferencelist=("plain",)).get_content()
            found = re.search(r"reset-password\?token=([A-Za-z0-9_-]{43})", text)
            if found:
                return found.group(1)
        time.sleep(0.1)
    fail(f"no reset mail in {MAIL}")
    return ""


client = Client(base_url=BASE)
before = {p.name for p in MAIL.glob("*.eml")}
requested = request_password_reset.sync_detailed(client=client, body=ResetRequestBody(username="alice"))
if requested.status_code != 202:
    fail(f"request answered {requested.status_code}")

token = newest_token(before)
verified = verify_password_reset.sync(client=client, body=TokenBody(token=token))
if not isinstance(verified, VerifyResponse) or not verified.valid:
    fail(f"verify: {verified}")

weak = complete_password_reset.sync(client=client, body=CompleteTokenBody(token=token, new_password="alice"))
if not isinstance(weak, Problem) or weak.code != "weak_password":
    fail(f"a weak password was not refused: {weak}")

done = complete_password_reset.sync_detailed(
    client=client, body=CompleteTokenBody(token=token, new_password="violet tractor melts quietly")
)
if done.status_code != 204:
    fail(f"complete answered {done.status_code}")
print("python client: request, verify, complete: ok")
