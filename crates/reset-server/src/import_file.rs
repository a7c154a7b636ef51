//! Reading a `reset-server user import` file: CSV with a header row, or JSON lines (one object
//! per line). A record that cannot be read becomes a refusal naming its line; the service
//! checks the rest (`ResetService::import_accounts`).
//!
//! Columns (CSV) or fields (JSON): `username` (required), `emails` (CSV: addresses separated
//! by spaces; JSON: an array; `email` is accepted for one address), `phone`, `locale`,
//! `password_hash` (an argon2id PHC string or a bcrypt hash, kept as it is), `disabled`
//! (`true`/`false`). An empty CSV field is an absent one.

use std::path::Path;

use anyhow::Context as _;
use reset_core::{ImportRecord, Refusal};
use serde::Deserialize;

/// The two formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    /// The format a file's extension names (`.csv`; `.jsonl`, `.ndjson` or `.json`).
    pub fn of(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "jsonl" | "ndjson" | "json" => Some(Self::Jsonl),
            _ => None,
        }
    }
}

/// A CSV row, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CsvRow {
    username: String,
    #[serde(default)]
    emails: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    locale: Option<String>,
    #[serde(default)]
    password_hash: Option<String>,
    #[serde(default)]
    disabled: Option<String>,
}

/// A JSON line, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonRow {
    username: String,
    #[serde(default)]
    emails: Vec<String>,
    #[serde(default)]
    email: Option<String>,
    phone: Option<String>,
    locale: Option<String>,
    password_hash: Option<String>,
    #[serde(default)]
    disabled: bool,
}

/// Every record of the file, in order, or why one could not be read.
pub fn read(path: &Path, format: Format) -> anyhow::Result<Vec<Result<ImportRecord, Refusal>>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading {} (UTF-8 text)", path.display()))?;
    Ok(match format {
        Format::Csv => csv_records(&text)?,
        Format::Jsonl => jsonl_records(&text),
    })
}

/// `None` for an empty field.
fn given(field: Option<String>) -> Option<String> {
    field.filter(|f| !f.trim().is_empty())
}

fn csv_records(text: &str) -> anyhow::Result<Vec<Result<ImportRecord, Refusal>>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .context("reading the CSV header row")?
        .clone();
    anyhow::ensure!(
        headers.iter().any(|h| h == "username"),
        "the CSV header row has no `username` column (columns: username, emails, phone, locale, password_hash, disabled)"
    );
    let mut records = Vec::new();
    for (index, row) in reader.records().enumerate() {
        // The header is line 1; a record's line is where it starts.
        let fallback = index + 2;
        let record = match row {
            Err(e) => Err(Refusal {
                line: e.position().map_or(fallback, |p| p.line() as usize),
                reason: match e.kind() {
                    csv::ErrorKind::UnequalLengths { .. } => {
                        format!("{e} (quote a field that holds a comma: an argon2id hash does)")
                    }
                    _ => e.to_string(),
                },
            }),
            Ok(r) => {
                let line = r.position().map_or(fallback, |p| p.line() as usize);
                r.deserialize::<CsvRow>(Some(&headers))
                    .map_err(|e| e.to_string())
                    .and_then(|row| from_csv(row, line))
                    .map_err(|reason| Refusal { line, reason })
            }
        };
        records.push(record);
    }
    Ok(records)
}

fn from_csv(row: CsvRow, line: usize) -> Result<ImportRecord, String> {
    let disabled = match given(row.disabled).as_deref().map(str::to_ascii_lowercase) {
        None => false,
        Some(v) if v == "true" || v == "1" || v == "yes" => true,
        Some(v) if v == "false" || v == "0" || v == "no" => false,
        Some(v) => return Err(format!("disabled is {v:?}: use true or false")),
    };
    let mut emails: Vec<String> = given(row.emails)
        .map(|e| e.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    emails.extend(given(row.email));
    Ok(ImportRecord {
        line,
        username: row.username,
        emails,
        phone: given(row.phone),
        locale: given(row.locale),
        password_hash: given(row.password_hash),
        disabled,
    })
}

fn jsonl_records(text: &str) -> Vec<Result<ImportRecord, Refusal>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(index, l)| {
            let line = index + 1;
            serde_json::from_str::<JsonRow>(l)
                .map(|row| {
                    let mut emails = row.emails;
                    emails.extend(row.email);
                    ImportRecord {
                        line,
                        username: row.username,
                        emails,
                        phone: row.phone,
                        locale: row.locale,
                        password_hash: row.password_hash,
                        disabled: row.disabled,
                    }
                })
                .map_err(|e| Refusal {
                    line,
                    reason: format!("not a record: {e}"),
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_become_records_and_bad_rows_refusals() {
        let text = "username,emails,phone,locale,password_hash,disabled\n\
                    alice,alice@example.com a2@example.com,,en,,\n\
                    bob,bob@example.com,+15550100,,$2b$04$abc,true\n\
                    carol,carol@example.com,,,,maybe\n\
                    dave,dave@example.com,,,,,extra\n";
        let records = csv_records(text).expect("read");
        assert_eq!(records.len(), 4);
        let alice = records[0].as_ref().expect("alice");
        assert_eq!((alice.line, alice.username.as_str()), (2, "alice"));
        assert_eq!(alice.emails, ["alice@example.com", "a2@example.com"]);
        assert_eq!(
            (alice.phone.as_deref(), alice.locale.as_deref()),
            (None, Some("en"))
        );
        let bob = records[1].as_ref().expect("bob");
        assert!(bob.disabled);
        assert_eq!(bob.password_hash.as_deref(), Some("$2b$04$abc"));
        let carol = records[2].as_ref().expect_err("carol");
        assert_eq!(carol.line, 4);
        assert!(carol.reason.contains("disabled"), "{}", carol.reason);
        assert_eq!(records[3].as_ref().expect_err("dave").line, 5);
    }

    #[test]
    fn a_csv_without_a_username_column_is_refused_whole() {
        assert!(csv_records("email\nalice@example.com\n").is_err());
    }

    #[test]
    fn json_lines_keep_their_line_numbers() {
        let text = "{\"username\":\"alice\",\"emails\":[\"alice@example.com\"]}\n\n\
                    {\"username\":\"bob\",\"email\":\"bob@example.com\",\"disabled\":true}\n\
                    {\"user\":\"carol\"}\n";
        let records = jsonl_records(text);
        assert_eq!(records.len(), 3);
        assert_eq!(records[0].as_ref().expect("alice").line, 1);
        let bob = records[1].as_ref().expect("bob");
        assert_eq!((bob.line, bob.disabled), (3, true));
        assert_eq!(bob.emails, ["bob@example.com"]);
        assert_eq!(records[2].as_ref().expect_err("carol").line, 4);
    }

    #[test]
    fn the_format_follows_the_extension() {
        assert_eq!(Format::of(Path::new("a.CSV")), Some(Format::Csv));
        assert_eq!(Format::of(Path::new("a.jsonl")), Some(Format::Jsonl));
        assert_eq!(Format::of(Path::new("a.txt")), None);
    }
}
