//! How the one list of settings in `settings.rs` becomes everything a setting needs.
//!
//! `settings!` expands each declaration
//!
//! ```text
//! /// Help line
//! key: Type = default [, shown "how the default reads"] [, secret = true];
//! ```
//!
//! into
//! - a field `key: Type` of `Settings`, which is also the TOML key, with the doc as its doc;
//! - `key: default` in `Settings::default()`;
//! - a field `key: Option<T>` of `SettingsArgs` (`T` is `Type`, or `U` for `Option<U>`): clap
//!   makes it the flag `--key` (with `-` for `_`) read from the variable `RESET_KEY`, with the doc
//!   and ` [default: …]` as its help line. Unset flags are not serialised, so the TOML file and
//!   the defaults fill them in.
//!
//! The default in the help line is the default value as the TOML file would spell it (`none`
//! for an empty or absent one), unless `shown` says it in words (a limit computed at start, a
//! key generated on first use). `secret = true` keeps clap from printing the variable's value.

/// A setting's type as a flag parses it: the type itself, or `T` for an optional `Option<T>`
/// (so that `--smtp-url` takes a URL rather than an optional one).
pub trait FlagValue {
    type Flag;
}

macro_rules! flag_is_itself {
    ($($ty:ty),+) => {
        $(impl FlagValue for $ty {
            type Flag = $ty;
        })+
    };
}
flag_is_itself!(String, std::path::PathBuf, bool, u8, u32, u64, usize);

impl<T> FlagValue for Option<T> {
    type Flag = T;
}

/// `RESET_` and `key` in capitals (`bind` → `RESET_BIND`), as a `&'static str` made at compile
/// time (clap's `env` wants one).
macro_rules! variable {
    ($key:ident) => {{
        const KEY: &str = stringify!($key);
        const BYTES: [u8; "RESET_".len() + KEY.len()] =
            $crate::settings::declare::prefixed_capitals(KEY);
        $crate::settings::declare::ascii(&BYTES)
    }};
}
pub(crate) use variable;

/// The bytes of `variable!`; `N` is the length of the result.
pub const fn prefixed_capitals<const N: usize>(key: &str) -> [u8; N] {
    const PREFIX: &[u8] = b"RESET_";
    let key = key.as_bytes();
    assert!(N == PREFIX.len() + key.len(), "wrong length");
    let mut out = [0; N];
    let mut i = 0;
    while i < N {
        out[i] = if i < PREFIX.len() {
            PREFIX[i]
        } else {
            key[i - PREFIX.len()].to_ascii_uppercase()
        };
        i += 1;
    }
    out
}

/// The bytes of `variable!` as a string (setting keys are ASCII).
pub const fn ascii(bytes: &'static [u8]) -> &'static str {
    match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(_) => panic!("a setting's key is not ASCII"),
    }
}

/// A setting's help line: its doc comment on one line, then its default.
pub fn help_line(doc: &str, default: &str) -> String {
    let doc: Vec<&str> = doc
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    format!("{} [default: {default}]", doc.join(" "))
}

/// A default as `--help` shows it: as written in the TOML file, `none` when empty or absent,
/// quoted when it has spaces.
pub fn shown(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Null) => "none".to_owned(),
        Ok(serde_json::Value::String(s)) if s.is_empty() => "none".to_owned(),
        Ok(serde_json::Value::String(s)) if s.contains(' ') => format!("{s:?}"),
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(e) => format!("unprintable ({e})"),
    }
}

/// The default of the help line: as `shown`, or the default value as [`shown`] prints it.
macro_rules! default_text {
    ($key:ident) => {
        $crate::settings::declare::shown(&defaults().$key)
    };
    ($key:ident $shown:literal) => {
        String::from($shown)
    };
}
pub(crate) use default_text;

/// One setting's names, for tests and docs to check against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declared {
    /// The TOML key and `Settings` field.
    pub key: &'static str,
    /// The `RESET_*` environment variable.
    pub variable: &'static str,
}

/// Expands the list of settings; see the module's doc.
macro_rules! settings {
    (
        $(let $local:ident = $init:expr;)*
        $(
            $(#[doc = $doc:literal])+
            $key:ident: $ty:ty = $default:expr $(, shown $shown:literal)? $(, secret = $secret:literal)?;
        )+
    ) => {
        /// Every setting, with its default. See `reset-server --help` for each one's meaning.
        #[derive(Clone, serde::Serialize, serde::Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct Settings {
            $(
                $(#[doc = $doc])+
                pub $key: $ty,
            )+
        }

        impl Default for Settings {
            fn default() -> Self {
                $(let $local = $init;)*
                Self { $($key: $default,)+ }
            }
        }

        /// The settings that flags and RESET_* variables may set; unset ones come from the TOML
        /// file, then from the defaults shown.
        #[derive(Debug, Clone, Default, clap::Args, serde::Serialize)]
        #[command(next_help_heading = "Settings")]
        pub struct SettingsArgs {
            $(
                #[arg(
                    long,
                    env = $crate::settings::declare::variable!($key),
                    global = true,
                    $(hide_env_values = $secret,)?
                    help = $crate::settings::declare::help_line(
                        concat!($($doc, "\n"),+),
                        &$crate::settings::declare::default_text!($key $($shown)?),
                    ),
                )]
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $key: Option<<$ty as $crate::settings::declare::FlagValue>::Flag>,
            )+
        }

        /// The defaults, computed once for the help lines.
        fn defaults() -> &'static Settings {
            static DEFAULTS: std::sync::LazyLock<Settings> = std::sync::LazyLock::new(Settings::default);
            &DEFAULTS
        }

        /// Every setting's key and variable, in the order of `--help`.
        pub const DECLARED: &[$crate::settings::declare::Declared] = &[$(
            $crate::settings::declare::Declared {
                key: stringify!($key),
                variable: $crate::settings::declare::variable!($key),
            },
        )+];
    };
}
pub(crate) use settings;
