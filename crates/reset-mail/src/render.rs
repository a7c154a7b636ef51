//! The words of each message, from minijinja templates: a subject, a text part and an HTML
//! part per kind, and a short text for SMS, in English, Japanese and German
//! (`templates/<lang>/<kind>.{subject.txt,txt,html,sms.txt}`).
//! The language is the message's locale (the request's, else the account's) reduced to its
//! primary subtag, falling back to English. A folder laid out the same way overrides any of
//! them. HTML templates are auto-escaped.

use std::path::Path;

use minijinja::{Environment, context};
use reset_core::MessageKind;
use reset_core::store::OutboxMessage;

/// The languages with built-in templates; the first is the fallback.
pub const LANGUAGES: [&str; 3] = ["en", "ja", "de"];
const KINDS: [&str; 3] = ["reset_link", "reset_code", "password_changed"];
const PARTS: [&str; 4] = ["subject.txt", "txt", "html", "sms.txt"];

macro_rules! builtin {
    ($($lang:literal / $kind:literal),* $(,)?) => {
        &[$(
            (concat!($lang, "/", $kind, ".subject.txt"), include_str!(concat!("../templates/", $lang, "/", $kind, ".subject.txt"))),
            (concat!($lang, "/", $kind, ".txt"), include_str!(concat!("../templates/", $lang, "/", $kind, ".txt"))),
            (concat!($lang, "/", $kind, ".html"), include_str!(concat!("../templates/", $lang, "/", $kind, ".html"))),
            (concat!($lang, "/", $kind, ".sms.txt"), include_str!(concat!("../templates/", $lang, "/", $kind, ".sms.txt"))),
        )*]
    };
}

const BUILTIN: &[(&str, &str)] = builtin!(
    "en" / "reset_link",
    "en" / "reset_code",
    "en" / "password_changed",
    "ja" / "reset_link",
    "ja" / "reset_code",
    "ja" / "password_changed",
    "de" / "reset_link",
    "de" / "reset_code",
    "de" / "password_changed",
);

/// A message ready for a transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The subject line.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part (auto-escaped).
    pub html: String,
}

/// A template could not be loaded or rendered.
#[derive(Debug, thiserror::Error)]
#[error("template {name}: {reason}")]
pub struct RenderError {
    /// The template's name (`<lang>/<kind>.<part>`, or `event` for a message that has none).
    pub name: String,
    /// What went wrong, as minijinja said.
    pub reason: String,
}

/// Renders messages from the built-in templates and any overrides.
pub struct Renderer {
    env: Environment<'static>,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Renderer")
    }
}

impl Renderer {
    /// The built-in templates, with the files of `overrides` (same layout) in their place.
    pub fn new(overrides: Option<&Path>) -> Result<Self, RenderError> {
        let mut env = Environment::new();
        for (name, source) in BUILTIN {
            env.add_template(name, source).map_err(|e| RenderError {
                name: (*name).to_owned(),
                reason: e.to_string(),
            })?;
        }
        if let Some(dir) = overrides {
            for lang in LANGUAGES {
                for kind in KINDS {
                    for part in PARTS {
                        let name = format!("{lang}/{kind}.{part}");
                        let path = dir.join(&name);
                        if let Ok(source) = std::fs::read_to_string(&path) {
                            env.add_template_owned(name.clone(), source).map_err(|e| {
                                RenderError {
                                    name,
                                    reason: e.to_string(),
                                }
                            })?;
                        }
                    }
                }
            }
        }
        Ok(Self { env })
    }

    /// The mail in its language.
    pub fn render(&self, message: &OutboxMessage) -> Result<Rendered, RenderError> {
        Ok(Rendered {
            subject: self.part(message, "subject.txt")?.trim().to_owned(),
            text: self.part(message, "txt")?,
            html: self.part(message, "html")?,
        })
    }

    /// The SMS text in its language.
    pub fn render_sms(&self, message: &OutboxMessage) -> Result<String, RenderError> {
        Ok(self.part(message, "sms.txt")?.trim().to_owned())
    }

    fn part(&self, message: &OutboxMessage, ext: &str) -> Result<String, RenderError> {
        let lang = language(&message.locale);
        let kind = match message.kind {
            MessageKind::ResetLink => "reset_link",
            MessageKind::ResetCode => "reset_code",
            MessageKind::PasswordChanged => "password_changed",
            MessageKind::Event => {
                return Err(RenderError {
                    name: "event".into(),
                    reason: "events are not rendered: they are sent as JSON".into(),
                });
            }
        };
        let p = &message.payload;
        let ctx = context! {
            username => p.username.as_deref().unwrap_or_default(),
            link => p.link.as_deref().unwrap_or_default(),
            code => p.code.as_deref().unwrap_or_default(),
            cancel_link => p.cancel_link.as_deref().unwrap_or_default(),
            valid_minutes => p.valid_minutes.unwrap_or_default(),
        };
        let name = format!("{lang}/{kind}.{ext}");
        self.env
            .get_template(&name)
            .and_then(|t| t.render(&ctx))
            .map_err(|e| RenderError {
                name,
                reason: e.to_string(),
            })
    }
}

/// The template language for a locale: its primary subtag when built in, else English.
pub fn language(locale: &str) -> &'static str {
    let primary = locale
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    LANGUAGES
        .iter()
        .find(|l| **l == primary)
        .copied()
        .unwrap_or(LANGUAGES[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use reset_core::message::MessagePayload;

    fn message(kind: MessageKind, locale: &str, username: &str) -> OutboxMessage {
        OutboxMessage {
            id: "1".into(),
            kind,
            channel: reset_core::Channel::Email,
            recipient: "a@example.com".into(),
            locale: locale.into(),
            payload: MessagePayload {
                username: Some(username.into()),
                link: Some("https://x.example/reset-password?token=T0k3n".into()),
                code: Some("042917".into()),
                cancel_link: Some("https://x.example/reset-password/cancel?token=C4nc3l".into()),
                valid_minutes: Some(30),
                event: None,
                traceparent: None,
            },
            attempts: 0,
            created_at: chrono::Utc::now(),
            queued_at: chrono::Utc::now(),
            decoy: false,
        }
    }

    #[test]
    fn every_language_and_kind_renders_with_its_secret() {
        let r = Renderer::new(None).expect("templates");
        let words = [("en", "Hello"), ("ja", "様"), ("de", "Hallo")];
        for (lang, greeting) in words {
            for kind in [
                MessageKind::ResetLink,
                MessageKind::ResetCode,
                MessageKind::PasswordChanged,
            ] {
                let out = r.render(&message(kind, lang, "alice")).expect("render");
                assert!(
                    !out.subject.is_empty() && !out.subject.contains('\n'),
                    "{lang} {kind:?}"
                );
                for part in [&out.text, &out.html] {
                    assert!(
                        part.contains(greeting) && part.contains("alice"),
                        "{lang} {kind:?}: {part}"
                    );
                    match kind {
                        MessageKind::ResetLink => {
                            assert!(part.contains("token=T0k3n") && part.contains("30"))
                        }
                        MessageKind::ResetCode => {
                            assert!(part.contains("042917") && part.contains("token=C4nc3l"))
                        }
                        MessageKind::PasswordChanged | MessageKind::Event => {
                            assert!(!part.contains("T0k3n") && !part.contains("042917"))
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn every_language_and_kind_has_a_short_sms() {
        let r = Renderer::new(None).expect("templates");
        for lang in LANGUAGES {
            for kind in [
                MessageKind::ResetLink,
                MessageKind::ResetCode,
                MessageKind::PasswordChanged,
            ] {
                let sms = r.render_sms(&message(kind, lang, "alice")).expect("render");
                assert!(
                    !sms.contains('\n') && sms.chars().count() < 200,
                    "{lang} {kind:?}: {sms}"
                );
                match kind {
                    MessageKind::ResetLink => assert!(sms.contains("token=T0k3n"), "{sms}"),
                    MessageKind::ResetCode => assert!(sms.contains("042917"), "{sms}"),
                    _ => assert!(!sms.contains("T0k3n") && !sms.contains("042917")),
                }
            }
        }
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let r = Renderer::new(None).expect("templates");
        let out = r
            .render(&message(MessageKind::ResetLink, "en", "<b>eve</b>"))
            .expect("render");
        assert!(
            out.html.contains("&lt;b&gt;eve") && !out.html.contains("<b>eve"),
            "{}",
            out.html
        );
        assert!(out.text.contains("<b>eve</b>"));
    }

    #[test]
    fn locale_picks_the_language_with_english_as_fallback() {
        assert_eq!(language("ja-JP"), "ja");
        assert_eq!(language("DE_at"), "de");
        assert_eq!(language("fr"), "en");
        assert_eq!(language(""), "en");
        let r = Renderer::new(None).expect("templates");
        assert_eq!(
            r.render(&message(MessageKind::ResetLink, "fr", "a"))
                .expect("render")
                .subject,
            "Reset your password"
        );
        assert_eq!(
            r.render(&message(MessageKind::ResetLink, "ja", "a"))
                .expect("render")
                .subject,
            "パスワードの再設定"
        );
    }

    #[test]
    fn a_folder_overrides_single_templates() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::create_dir_all(dir.path().join("de")).expect("mkdir");
        std::fs::write(
            dir.path().join("de/reset_link.subject.txt"),
            "Eigenes Passwort-Thema für {{ username }}",
        )
        .expect("write");
        let r = Renderer::new(Some(dir.path())).expect("templates");
        let out = r
            .render(&message(MessageKind::ResetLink, "de", "bob"))
            .expect("render");
        assert_eq!(out.subject, "Eigenes Passwort-Thema für bob");
        assert!(
            out.text.contains("Hallo bob"),
            "the other parts stay built in"
        );
    }
}
