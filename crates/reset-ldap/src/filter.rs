//! Search filters from templates: `{username}`, `{email}` and `{id}` replaced by the value,
//! escaped per RFC 4515 (`*`, `(`, `)`, `\` and NUL become `\2a` …), so that an identifier can
//! only ever be matched as a literal, never widen the search.

use std::borrow::Cow;

/// `template` with each `{name}` replaced by its value, escaped.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in values {
        let escaped: Cow<'_, str> = ldap3::ldap_escape(*value);
        out = out.replace(&format!("{{{name}}}"), &escaped);
    }
    out
}

/// The filter that finds one account: by username, by email, or by both at once (both must
/// match the one entry).
pub fn lookup(
    username_filter: &str,
    email_filter: &str,
    username: Option<&str>,
    email: Option<&str>,
) -> Option<String> {
    match (username, email) {
        (Some(u), Some(e)) => Some(format!(
            "(&{}{})",
            fill(username_filter, &[("username", u)]),
            fill(email_filter, &[("email", e)])
        )),
        (Some(u), None) => Some(fill(username_filter, &[("username", u)])),
        (None, Some(e)) => Some(fill(email_filter, &[("email", e)])),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_literals() {
        assert_eq!(
            fill("(uid={username})", &[("username", "*)(uid=*")]),
            "(uid=\\2a\\29\\28uid=\\2a)"
        );
        assert_eq!(
            lookup("(uid={username})", "(mail={email})", Some("a"), Some("b@c")),
            Some("(&(uid=a)(mail=b@c))".into())
        );
        assert_eq!(
            lookup("(uid={username})", "(mail={email})", None, None),
            None
        );
    }
}
