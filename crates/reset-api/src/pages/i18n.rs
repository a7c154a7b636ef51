//! The pages' words in English, Japanese and German, and the choice among them from
//! `Accept-Language` (its first language we have, by quality; English otherwise).

use serde::Serialize;

/// A page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English, the fallback.
    En,
    /// Japanese.
    Ja,
    /// German.
    De,
}

impl Lang {
    /// Its language tag, for the page's `lang` attribute and `Content-Language`.
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Ja => "ja",
            Self::De => "de",
        }
    }

    /// The best of ours for an `Accept-Language` header: the highest-quality entry whose
    /// primary subtag we speak (the first of equals), English otherwise. Written here rather than
    /// taken from a crate because the header is hostile input: entries are capped, and a `q`
    /// that is not a number in (0, 1] drops its entry (a `q=0` language is one the client refuses).
    pub fn negotiate(header: Option<&str>) -> Self {
        let mut best: Option<(f32, Self)> = None;
        for entry in header.unwrap_or_default().split(',').take(32) {
            let mut parts = entry.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let quality = parts
                .find_map(|p| {
                    let (name, value) = p.split_once('=')?;
                    name.trim().eq_ignore_ascii_case("q").then_some(value)
                })
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
                .filter(|q| q.is_finite() && *q > 0.0 && *q <= 1.0);
            let (Some(quality), Some(lang)) = (quality, Self::of(tag)) else {
                continue;
            };
            if best.is_none_or(|(b, _)| quality > b) {
                best = Some((quality, lang));
            }
        }
        best.map_or(Self::En, |(_, lang)| lang)
    }

    /// The language of a tag such as `ja-JP`, by its primary subtag.
    fn of(tag: &str) -> Option<Self> {
        let primary = tag.split('-').next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Self::En),
            "ja" => Some(Self::Ja),
            "de" => Some(Self::De),
            _ => None,
        }
    }

    /// Everything a page says, in this language.
    pub fn words(self) -> &'static Words {
        match self {
            Self::En => &EN,
            Self::Ja => &JA,
            Self::De => &DE,
        }
    }
}

/// Everything a page says.
#[derive(Debug, Serialize)]
pub struct Words {
    /// The reset form's heading, also the heading of its error pages.
    pub title: &'static str,
    /// The label of the new-password field.
    pub new_password: &'static str,
    /// The label of the field that repeats it.
    pub confirm_password: &'static str,
    /// `{n}` stands for the policy's shortest length.
    pub hint: &'static str,
    /// The reset form's button.
    pub submit: &'static str,
    /// Above the list of reasons a password was refused.
    pub fix: &'static str,
    /// The two fields differ.
    pub mismatch: &'static str,
    /// The heading once the password is changed.
    pub done_title: &'static str,
    /// The text once the password is changed.
    pub done: &'static str,
    /// The heading for a link that does not work.
    pub invalid_title: &'static str,
    /// Why a link may not work, and what to do.
    pub invalid: &'static str,
    /// The "this wasn't me" page's heading.
    pub cancel_title: &'static str,
    /// What cancelling does, asked before it is done.
    pub cancel: &'static str,
    /// The cancel page's button.
    pub cancel_submit: &'static str,
    /// The text once the request is cancelled.
    pub cancelled: &'static str,
    /// A rate limit or spent tries (429).
    pub busy: &'static str,
    /// Our fault, or a dependency unavailable (500, 503).
    pub broken: &'static str,
    /// The request was not a readable form (too large, another media type).
    pub unreadable: &'static str,
    /// Violation `too_short`.
    pub too_short: &'static str,
    /// Violation `too_long`.
    pub too_long: &'static str,
    /// Violation `contains_username`.
    pub contains_username: &'static str,
    /// Violation `contains_email`.
    pub contains_email: &'static str,
    /// Violation `too_guessable` (and any code this table does not know).
    pub too_guessable: &'static str,
    /// Violation `reused`: one of the account's recent passwords.
    pub reused: &'static str,
    /// Violation `breached`: seen in known data breaches.
    pub breached: &'static str,
}

impl Words {
    /// A broken password rule, in this language.
    pub fn violation(&self, code: &str) -> &'static str {
        match code {
            "too_short" => self.too_short,
            "too_long" => self.too_long,
            "contains_username" => self.contains_username,
            "contains_email" => self.contains_email,
            "reused" => self.reused,
            "breached" => self.breached,
            _ => self.too_guessable,
        }
    }
}

static EN: Words = Words {
    title: "Choose a new password",
    new_password: "New password",
    confirm_password: "New password, again",
    hint: "At least {n} characters. A few unrelated words make a strong, memorable password.",
    submit: "Set the new password",
    fix: "Please choose another password:",
    mismatch: "The two passwords are not the same.",
    done_title: "Password changed",
    done: "Your password has been changed. You can now sign in with it.",
    invalid_title: "This link does not work",
    invalid: "The link is invalid, has expired or was already used. Ask for a new one.",
    cancel_title: "Was this not you?",
    cancel: "If you did not ask to reset your password, cancel the request: the link and code sent to you will stop working.",
    cancel_submit: "Cancel the request",
    cancelled: "The request is cancelled. Nothing about your account has changed.",
    busy: "Too many attempts. Please wait a few minutes and try again.",
    broken: "Something went wrong on our side. Please try again later.",
    unreadable: "The form could not be read. Please open the link again.",
    too_short: "It is too short.",
    too_long: "It is too long.",
    contains_username: "It contains your username.",
    contains_email: "It contains your email address.",
    too_guessable: "It is too easy to guess.",
    reused: "You used it recently.",
    breached: "It has appeared in data breaches, so attackers try it early.",
};

static JA: Words = Words {
    title: "新しいパスワードの設定",
    new_password: "新しいパスワード",
    confirm_password: "新しいパスワード（確認）",
    hint: "{n}文字以上。関係のない単語をいくつか並べると、強くて覚えやすいパスワードになります。",
    submit: "パスワードを設定する",
    fix: "別のパスワードを選んでください：",
    mismatch: "2つのパスワードが一致しません。",
    done_title: "パスワードを変更しました",
    done: "パスワードを変更しました。新しいパスワードでログインできます。",
    invalid_title: "このリンクは使えません",
    invalid: "リンクが無効か、有効期限が切れているか、すでに使われています。もう一度申請してください。",
    cancel_title: "お心当たりがありませんか？",
    cancel: "パスワードの再設定を申請していない場合は、申請を取り消してください。送信されたリンクとコードは使えなくなります。",
    cancel_submit: "申請を取り消す",
    cancelled: "申請を取り消しました。アカウントは何も変更されていません。",
    busy: "試行回数が多すぎます。数分待ってからもう一度お試しください。",
    broken: "問題が発生しました。しばらくしてからもう一度お試しください。",
    unreadable: "フォームを読み取れませんでした。もう一度リンクを開いてください。",
    too_short: "短すぎます。",
    too_long: "長すぎます。",
    contains_username: "ユーザー名が含まれています。",
    contains_email: "メールアドレスが含まれています。",
    too_guessable: "推測されやすすぎます。",
    reused: "最近使ったパスワードです。",
    breached: "過去のデータ漏えいで流出したことがあるため、攻撃者が最初に試します。",
};

static DE: Words = Words {
    title: "Neues Passwort wählen",
    new_password: "Neues Passwort",
    confirm_password: "Neues Passwort wiederholen",
    hint: "Mindestens {n} Zeichen. Einige zusammenhanglose Wörter ergeben ein starkes, merkbares Passwort.",
    submit: "Neues Passwort setzen",
    fix: "Bitte wählen Sie ein anderes Passwort:",
    mismatch: "Die beiden Passwörter stimmen nicht überein.",
    done_title: "Passwort geändert",
    done: "Ihr Passwort wurde geändert. Sie können sich jetzt damit anmelden.",
    invalid_title: "Dieser Link funktioniert nicht",
    invalid: "Der Link ist ungültig, abgelaufen oder wurde schon benutzt. Fordern Sie einen neuen an.",
    cancel_title: "Waren Sie das nicht?",
    cancel: "Wenn Sie das Zurücksetzen nicht angefordert haben, brechen Sie die Anfrage ab: Link und Code funktionieren dann nicht mehr.",
    cancel_submit: "Anfrage abbrechen",
    cancelled: "Die Anfrage ist abgebrochen. An Ihrem Konto hat sich nichts geändert.",
    busy: "Zu viele Versuche. Bitte warten Sie einige Minuten.",
    broken: "Bei uns ist etwas schiefgegangen. Bitte versuchen Sie es später erneut.",
    unreadable: "Das Formular konnte nicht gelesen werden. Bitte öffnen Sie den Link erneut.",
    too_short: "Es ist zu kurz.",
    too_long: "Es ist zu lang.",
    contains_username: "Es enthält Ihren Benutzernamen.",
    contains_email: "Es enthält Ihre E-Mail-Adresse.",
    too_guessable: "Es ist zu leicht zu erraten.",
    reused: "Sie haben es kürzlich benutzt.",
    breached: "Es ist in Datenlecks aufgetaucht; Angreifer probieren es zuerst.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_by_quality_and_primary_subtag() {
        assert_eq!(Lang::negotiate(Some("ja-JP,ja;q=0.9,en;q=0.8")), Lang::Ja);
        assert_eq!(Lang::negotiate(Some("fr-CH, de;q=0.9, en;q=0.8")), Lang::De);
        assert_eq!(Lang::negotiate(Some("en;q=0.5, ja;q=0.9")), Lang::Ja);
        assert_eq!(Lang::negotiate(Some("fr")), Lang::En);
        assert_eq!(Lang::negotiate(Some("")), Lang::En);
        assert_eq!(Lang::negotiate(None), Lang::En);
        assert_eq!(Lang::negotiate(Some("fr, de;q=0")), Lang::En, "q=0 refuses");
        assert_eq!(
            Lang::negotiate(Some("de;q=0.5, ja;q=0.5")),
            Lang::De,
            "first of equals"
        );
        assert_eq!(Lang::negotiate(Some("de;Q=0, ja ; q = 0.1")), Lang::Ja);
    }

    #[test]
    fn hostile_headers_do_not_panic() {
        let nans = vec!["de;q=nan"; 500].join(",");
        assert_eq!(Lang::negotiate(Some(&nans)), Lang::En);
        assert_eq!(Lang::negotiate(Some("ja;q=inf, de;q=-1, en;q=2")), Lang::En);
        assert_eq!(Lang::negotiate(Some(&"x".repeat(100_000))), Lang::En);
    }
}
