//! `url_template` for links an administrator asks us to send: `{{.UserID}}`, `{{.Code}}`,
//! `{{.OrgID}}` and `{{.LoginName}}`, each value percent-encoded. The result must be an
//! absolute `https` URL (`http` only on loopback) whose origin is on the allow-list: this is
//! what stops a stolen admin token from mailing phishing links from our domain.

use std::net::IpAddr;

use url::Url;

/// The values a template may use.
#[derive(Debug, Clone, Copy)]
pub struct TemplateValues<'a> {
    /// The account's id (`{{.UserID}}`).
    pub user_id: &'a str,
    /// The reset code (`{{.Code}}`).
    pub code: &'a str,
    /// The account's organisation (`{{.OrgID}}`).
    pub org_id: &'a str,
    /// The account's username (`{{.LoginName}}`).
    pub login_name: &'a str,
}

/// Why a template was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `{{…}}` that is none of the four placeholders.
    #[error(
        "unknown placeholder {0}; use {{{{.UserID}}}}, {{{{.Code}}}}, {{{{.OrgID}}}} or {{{{.LoginName}}}}"
    )]
    UnknownPlaceholder(String),
    /// A `{{` without its `}}`.
    #[error("an unclosed placeholder")]
    Unclosed,
    /// The template holds a backslash, whitespace or a control character.
    #[error("a backslash, space or control character, which URL parsers read differently")]
    Ambiguous,
    /// The result does not parse as an absolute URL with a host.
    #[error("the result is not an absolute URL")]
    NotAbsolute,
    /// The scheme is neither `https` nor `http` on a loopback host.
    #[error("the scheme must be https (http only on loopback)")]
    Scheme,
    /// The origin (or userinfo) is not on the allow-list; holds the origin found.
    #[error("the origin {0} is not allowed")]
    Origin(String),
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Renders `template` and checks the result against `allowed` origins (such as
/// `https://app.example.com`; compared as scheme, host and port).
pub fn render(
    template: &str,
    values: TemplateValues<'_>,
    allowed: &[String],
) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or(TemplateError::Unclosed)?;
        let name = after[..end].trim();
        let value = match name {
            ".UserID" => values.user_id,
            ".Code" => values.code,
            ".OrgID" => values.org_id,
            ".LoginName" => values.login_name,
            other => {
                return Err(TemplateError::UnknownPlaceholder(format!(
                    "{{{{{other}}}}}"
                )));
            }
        };
        out.push_str(&encode(value));
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    // WHATWG parsing (ours) reads `\` as `/` and drops tabs and newlines; other parsers (a
    // mail client's linkifier) do not, and would see another host or extra text. Values are
    // percent-encoded, so only the template itself can bring these in.
    if out
        .chars()
        .any(|c| c == '\\' || c.is_whitespace() || c.is_control())
    {
        return Err(TemplateError::Ambiguous);
    }
    let url = Url::parse(&out).map_err(|_| TemplateError::NotAbsolute)?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(TemplateError::Scheme);
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => return Err(TemplateError::NotAbsolute),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(TemplateError::Scheme),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TemplateError::Origin(url.origin().ascii_serialization()));
    }
    let origin = url.origin();
    let ok = allowed
        .iter()
        .filter_map(|a| Url::parse(a).ok())
        .any(|a| a.origin() == origin);
    if ok {
        // What was checked is what is sent.
        Ok(url.to_string())
    } else {
        Err(TemplateError::Origin(origin.ascii_serialization()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALUES: TemplateValues<'static> = TemplateValues {
        user_id: "u 1/2",
        code: "123456",
        org_id: "org&x=1",
        login_name: "ä@b.c",
    };

    fn allowed() -> Vec<String> {
        vec![
            "https://app.example.com".into(),
            "http://127.0.0.1:8080".into(),
        ]
    }

    #[test]
    fn renders_every_placeholder_encoded() {
        let t = "https://app.example.com/reset?u={{.UserID}}&c={{.Code}}&o={{ .OrgID }}&l={{.LoginName}}";
        assert_eq!(
            render(t, VALUES, &allowed()).expect("rendered"),
            "https://app.example.com/reset?u=u%201%2F2&c=123456&o=org%26x%3D1&l=%C3%A4%40b.c"
        );
    }

    #[test]
    fn refuses_other_origins_schemes_and_placeholders() {
        let refused = [
            (
                "https://evil.example/?c={{.Code}}",
                TemplateError::Origin("https://evil.example".into()),
            ),
            (
                "https://app.example.com:8443/?c={{.Code}}",
                TemplateError::Origin("https://app.example.com:8443".into()),
            ),
            ("http://app.example.com/?c={{.Code}}", TemplateError::Scheme),
            ("javascript:alert({{.Code}})", TemplateError::Scheme),
            ("data:text/html,{{.Code}}", TemplateError::Scheme),
            ("/relative?c={{.Code}}", TemplateError::NotAbsolute),
            (
                "https://app.example.com/?c={{.Secret}}",
                TemplateError::UnknownPlaceholder("{{.Secret}}".into()),
            ),
            (
                "https://app.example.com/?c={{.Code",
                TemplateError::Unclosed,
            ),
            (
                "https://app.example.com\\@evil.example/?c={{.Code}}",
                TemplateError::Ambiguous,
            ),
            (
                "https://app.example.com/?c={{.Code}}\n\nCall +1 555",
                TemplateError::Ambiguous,
            ),
            (
                "https://app.example.com/ ?c={{.Code}}",
                TemplateError::Ambiguous,
            ),
        ];
        for (t, e) in refused {
            assert_eq!(render(t, VALUES, &allowed()), Err(e), "{t}");
        }
        assert!(matches!(
            render(
                "https://user@app.example.com/?c={{.Code}}",
                VALUES,
                &allowed()
            ),
            Err(TemplateError::Origin(_))
        ));
    }

    #[test]
    fn a_value_cannot_move_the_origin() {
        let values = TemplateValues {
            user_id: "evil.example/",
            ..VALUES
        };
        assert!(render("https://{{.UserID}}app.example.com/", values, &allowed()).is_err());
    }

    #[test]
    fn http_only_on_loopback() {
        assert!(render("http://127.0.0.1:8080/r?c={{.Code}}", VALUES, &allowed()).is_ok());
        assert_eq!(
            render("http://localhost:8080/r", VALUES, &allowed()),
            Err(TemplateError::Origin("http://localhost:8080".into()))
        );
    }
}
