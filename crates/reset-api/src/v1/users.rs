//! The v1 user API (`docs/api.md`, "Users"): the built-in directory's accounts for
//! administrators, under the scopes `users:read` and `users:write`. With another directory
//! (LDAP, an application's table or service) every route answers `409 directory_managed`.

use chrono::{DateTime, SecondsFormat, Utc};
use reset_core::{AccountPatch, AdminAction, User, UserInput};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::admin::{session, user_id};
use crate::api::Api;
use crate::problem::{INVALID_REQUEST, Problem};
use crate::request::ApiRequest;
use crate::request_body::parse;
use crate::response::ApiResponse;

/// An account of the built-in directory. Never its password hash.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01938f6e-6a1b-7c3d-9e4f-5a6b7c8d9e0f", "username": "alice",
    "emails": ["alice@example.com"], "phone": null, "locale": "en", "org_id": "default",
    "disabled": false, "has_password": true, "password_changed_at": "2026-11-24T09:00:00.000Z",
    "created_at": "2026-11-20T08:00:00.000Z", "sequence": 3}))]
pub struct UserResource {
    /// The account's id (a UUIDv7), by which the other administration routes name it.
    pub id: String,
    /// The normalised username (NFKC, lower case).
    pub username: String,
    /// The normalised addresses, in order: messages go to the first.
    pub emails: Vec<String>,
    /// The phone number SMS messages go to.
    pub phone: Option<String>,
    /// The language messages are sent in.
    pub locale: Option<String>,
    /// The organisation.
    pub org_id: String,
    /// Switched off: every self-service path treats the account as unknown (the same answer,
    /// no message), and administrators cannot issue it a secret until it is enabled again.
    pub disabled: bool,
    /// Whether a password is set.
    pub has_password: bool,
    /// When the password was last set (RFC 3339, UTC, milliseconds); `null` when never.
    pub password_changed_at: Option<String>,
    /// When the account was created (RFC 3339, UTC, milliseconds).
    pub created_at: String,
    /// Changes of the account so far (the administration answers' `details.sequence`).
    pub sequence: i64,
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl From<User> for UserResource {
    fn from(u: User) -> Self {
        Self {
            has_password: u.password_hash.is_some(),
            id: u.id,
            username: u.username,
            emails: u.emails,
            phone: u.phone,
            locale: u.locale,
            org_id: u.org_id,
            disabled: u.disabled,
            password_changed_at: u.password_changed_at.map(time),
            created_at: time(u.created_at),
            sequence: u.sequence,
        }
    }
}

/// `POST /v1/users`: an account without a password; the user sets one through a reset
/// (`POST /v1/users/{user_id}/password-reset` sends the link).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "alice", "emails": ["alice@example.com"], "locale": "en"}))]
pub struct CreateUserBody {
    /// The username; stored normalised (NFKC, lower case). Taken: `409 conflict`.
    pub username: String,
    /// Addresses, in order (messages go to the first); each belongs to one account at most.
    #[serde(default)]
    pub emails: Vec<String>,
    /// A phone number for SMS (1 to 64 characters).
    pub phone: Option<String>,
    /// The language messages are sent in (1 to 64 characters).
    pub locale: Option<String>,
}

/// `PATCH /v1/users/{user_id}`: the fields to change; a field left out stays as it is, `null`
/// removes a phone or locale.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"emails": ["alice@example.org"], "disabled": false}))]
pub struct UpdateUserBody {
    /// Every address of the account, replacing the old list. Changing it ends the account's
    /// live reset secrets (a link sent to an old address stops working).
    pub emails: Option<Vec<String>>,
    /// The phone number, or `null` to remove it. Changing it ends the live secrets too.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    /// The language messages are sent in, or `null` to remove it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub locale: Option<Option<String>>,
    /// `true` switches the account off (its live secrets end); `false` switches it on again.
    pub disabled: Option<bool>,
}

/// A field that is present: `null` is `Some(None)`, absent (`#[serde(default)]`) is `None`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A page of `GET /v1/users`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"users": [{"id": "01938f6e-6a1b-7c3d-9e4f-5a6b7c8d9e0f", "username": "alice",
    "emails": ["alice@example.com"], "phone": null, "locale": "en", "org_id": "default",
    "disabled": false, "has_password": true, "password_changed_at": "2026-11-24T09:00:00.000Z",
    "created_at": "2026-11-20T08:00:00.000Z", "sequence": 3}],
    "next_page_token": "01938f6e-6a1b-7c3d-9e4f-5a6b7c8d9e0f"}))]
pub struct UserList {
    /// The accounts, oldest first.
    pub users: Vec<UserResource>,
    /// Pass as `page_token` for the next page; `null` on the last one.
    pub next_page_token: Option<String>,
}

/// `POST /v1/users` (`users:write`): 201 with the account and its `Location`.
pub async fn create(api: &Api, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    let (session, _) = session(api, req, AdminAction::UsersWrite).await?;
    let body: CreateUserBody = parse(req)?;
    let input = UserInput {
        username: body.username,
        emails: body.emails,
        password: None,
        phone: body.phone,
        locale: body.locale,
        org_id: None,
    };
    let user = api.service().create_account(&session, input).await?;
    let location = format!("/v1/users/{}", user.id);
    Ok(ApiResponse::json(201, &UserResource::from(user)).with_header("location", location))
}

/// `GET /v1/users/{user_id}` (`users:read`).
pub async fn read(api: &Api, req: &ApiRequest, id: Option<String>) -> Result<ApiResponse, Problem> {
    let (session, _) = session(api, req, AdminAction::UsersRead).await?;
    let user = api.service().account(&session, &user_id(id)?).await?;
    Ok(ApiResponse::json(200, &UserResource::from(user)))
}

/// `PATCH /v1/users/{user_id}` (`users:write`).
pub async fn update(
    api: &Api,
    req: &ApiRequest,
    id: Option<String>,
) -> Result<ApiResponse, Problem> {
    let (session, _) = session(api, req, AdminAction::UsersWrite).await?;
    let id = user_id(id)?;
    let body: UpdateUserBody = parse(req)?;
    let patch = AccountPatch {
        emails: body.emails,
        phone: body.phone,
        locale: body.locale,
        disabled: body.disabled,
    };
    let user = api.service().update_account(&session, &id, patch).await?;
    Ok(ApiResponse::json(200, &UserResource::from(user)))
}

/// `DELETE /v1/users/{user_id}` (`users:write`): 204.
pub async fn delete(
    api: &Api,
    req: &ApiRequest,
    id: Option<String>,
) -> Result<ApiResponse, Problem> {
    let (session, _) = session(api, req, AdminAction::UsersWrite).await?;
    api.service()
        .delete_account(&session, &user_id(id)?)
        .await?;
    Ok(ApiResponse::empty(204))
}

/// `GET /v1/users?page_size=&page_token=` (`users:read`).
pub async fn list(api: &Api, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    let (session, _) = session(api, req, AdminAction::UsersRead).await?;
    let (mut size, mut token) = (None, None);
    for (name, value) in form_urlencoded::parse(req.query.as_deref().unwrap_or("").as_bytes()) {
        match name.as_ref() {
            "page_size" => {
                size = Some(value.parse::<u32>().map_err(|_| {
                    Problem::new(INVALID_REQUEST, "page_size must be a whole number.")
                })?);
            }
            "page_token" => token = Some(value.into_owned()),
            other => {
                return Err(Problem::new(
                    INVALID_REQUEST,
                    format!("Unknown query parameter {other:?}: use page_size and page_token."),
                ));
            }
        }
    }
    let page = api
        .service()
        .list_accounts(&session, token.as_deref(), size)
        .await?;
    Ok(ApiResponse::json(
        200,
        &UserList {
            users: page.users.into_iter().map(UserResource::from).collect(),
            next_page_token: page.next,
        },
    ))
}
