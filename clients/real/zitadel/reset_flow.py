"""zitadel-client, Zitadel's official Python SDK, unchanged, against the Zitadel dialect.

Works with either generation: 1.x calls the REST paths (`/v2/users/{userId}/password_reset`),
4.x calls Connect (`/zitadel.user.v2.UserService/PasswordReset`). Each run: PasswordReset with
sendLink (a message arrives), with returnCode, SetPassword with a wrong code (refused) and with
the returned code; an unknown user is an ApiError with status 404. Reads RESET_URL (the server,
given to the SDK as its base URL), RESET_TOKEN (an admin token with password:reset and
password:write), RESET_USER_ID, RESET_EMAIL and RESET_MAIL_DIR (the file transport's folder).
Run by scripts/real-clients.sh in a venv with one of requirements-{1,4}.txt.
"""

import os
import sys
import time
import warnings
from importlib.metadata import version

try:  # authlib, a dependency of the SDK, turns its own deprecation warnings on for good
    from authlib.deprecate import AuthlibDeprecationWarning

    warnings.filterwarnings("ignore", category=AuthlibDeprecationWarning)
except ImportError:
    pass

import requests  # noqa: E402
import zitadel_client as zitadel  # noqa: E402
from zitadel_client.exceptions import ApiError  # noqa: E402
from zitadel_client.models import (  # noqa: E402
    UserServiceNotificationType,
    UserServicePassword,
    UserServicePasswordResetRequest,
    UserServiceSendPasswordResetLink,
    UserServiceSetPasswordRequest,
    UserServiceSetPasswordResponse,
)

BASE = os.environ.get("RESET_URL", "http://127.0.0.1:8080")
TOKEN = os.environ["RESET_TOKEN"]
USER_ID = os.environ["RESET_USER_ID"]
EMAIL = os.environ.get("RESET_EMAIL", "alice@example.com")
MAIL_DIR = os.environ.get("RESET_MAIL_DIR", "data/mail")
STRONG = "violet tractor melts quietly"
SDK = version("zitadel-client")
CONNECT = int(SDK.split(".")[0]) >= 4


def fail(message: str) -> None:
    print(f"FAIL (zitadel-client {SDK}): {message}", file=sys.stderr)
    sys.exit(1)


def mails() -> set:
    return {f for f in os.listdir(MAIL_DIR) if f.endswith(".eml")}


def wait_for_mail(before: set) -> None:
    """A new message to EMAIL appears in MAIL_DIR (the outbox worker sends it shortly)."""
    for _ in range(100):
        for name in mails() - before:
            with open(os.path.join(MAIL_DIR, name), encoding="utf-8", errors="replace") as f:
                if EMAIL in f.read():
                    return
        time.sleep(0.1)
    fail(f"no message to {EMAIL} in {MAIL_DIR}")


def password_reset(client, user_id: str, request: UserServicePasswordResetRequest):
    if CONNECT:
        request.user_id = user_id
        return client.users.password_reset(request)
    return client.users.user_service_password_reset(user_id, request)


def set_password(client, user_id: str, code: str):
    new = UserServicePassword(password=STRONG, change_required=False)
    if CONNECT:
        request = UserServiceSetPasswordRequest(
            user_id=user_id, new_password=new, verification_code=code
        )
        return client.users.set_password(request)
    # 1.x's model makes both fields of the oneof required (min length 1): a caller must fill
    # currentPassword too, which Zitadel (and this server) refuses with 400 INVALID_ARGUMENT,
    # using nothing up. So 1.x's SetPassword is expected to fail; the code is then used through
    # a plain request with the one member Zitadel takes.
    request = UserServiceSetPasswordRequest(
        new_password=new, verification_code=code, current_password="unused"
    )
    try:
        client.users.user_service_set_password(user_id, request)
        fail("both members of the oneof were accepted")
    except ApiError as e:
        if e.code != 400:
            fail(f"both members of the oneof: status {e.code}, {e.response_body}")
    answer = requests.post(
        f"{BASE}/v2/users/{user_id}/password",
        json={"newPassword": {"password": STRONG, "changeRequired": False}, "verificationCode": code},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    if answer.status_code != 200:
        raise ApiError(answer.status_code, answer.headers, answer.text)
    return UserServiceSetPasswordResponse.from_dict(answer.json())


def main() -> None:
    client = zitadel.Zitadel.with_access_token(BASE, TOKEN)
    door = "Connect" if CONNECT else "REST"

    before = mails()
    link = UserServiceSendPasswordResetLink(
        notification_type=UserServiceNotificationType.NOTIFICATION_TYPE_EMAIL
    )
    answer = password_reset(client, USER_ID, UserServicePasswordResetRequest(send_link=link))
    if answer.verification_code is not None or answer.details is None:
        fail(f"sendLink answered {answer}")
    wait_for_mail(before)

    answer = password_reset(client, USER_ID, UserServicePasswordResetRequest(return_code={}))
    code = answer.verification_code
    if not code or answer.details is None or answer.details.change_date is None:
        fail(f"returnCode answered {answer}")

    wrong = "000000" if code != "000000" else "000001"
    try:
        set_password(client, USER_ID, wrong)
        fail("a wrong code was accepted")
    except ApiError as e:
        if e.code != 400:
            fail(f"a wrong code: status {e.code}, {e.response_body}")

    answer = set_password(client, USER_ID, code)
    if answer.details is None or answer.details.sequence is None:
        fail(f"SetPassword answered {answer}")

    try:
        password_reset(client, "no-such-user", UserServicePasswordResetRequest(return_code={}))
        fail("an unknown user was accepted")
    except ApiError as e:
        if e.code != 404:
            fail(f"an unknown user: status {e.code}, {e.response_body}")

    print(f"zitadel-client {SDK} ({door}): sendLink, returnCode, SetPassword ok")


if __name__ == "__main__":
    main()
