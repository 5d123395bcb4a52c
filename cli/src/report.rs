//! What the CLI prints about keys and envelopes: the text listings and the
//! `--json` documents (schemas in docs/CLI.md, "JSON output"). Times are
//! UTC, RFC 3339 (`2026-12-01T14:05:00Z`).

use serde_json::{Value, json};
use strongroom::envelope::EnvelopeInfo;
use strongroom::{KeyInfo, Keyring, Timestamp, VersionState};

/// `secs` since the Unix epoch as RFC 3339 UTC.
pub(crate) fn rfc3339(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil date from a day count (H. Hinnant's algorithm, proleptic
    // Gregorian, valid for every u64 day count we can hold as i64).
    let z = i64::try_from(days).unwrap_or(i64::MAX / 2) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// When the key's primary version is one rotation period old.
fn next_due(k: &KeyInfo) -> Option<u64> {
    let period = k.rotation_period_seconds?;
    let primary = k.versions.iter().find(|v| v.version == k.primary_version)?;
    Some(primary.created.as_unix_seconds().saturating_add(period))
}

/// Whether data under the version decrypts (enabled, and not below the
/// key's minimum decryption version).
fn decrypts(k: &KeyInfo, version: u32, state: VersionState) -> bool {
    state == VersionState::Enabled && version >= k.min_decryption_version
}

/// One version's state as listed: a version below the minimum says so.
fn state_label(k: &KeyInfo, version: u32, state: VersionState) -> String {
    if state == VersionState::Enabled && version < k.min_decryption_version {
        "enabled (below the minimum: does not decrypt)".into()
    } else {
        state.name().into()
    }
}

/// The text listing of `key list` and `keyring info`: a header, a line per
/// key, and a line per version with its creation time.
pub(crate) fn key_list_text(keyring: &Keyring) -> String {
    let keys = keyring.keys();
    if keys.is_empty() {
        return "no keys".into();
    }
    let now = Timestamp::now().as_unix_seconds();
    let mut out = vec!["# key  id  primary  min  [versions]  rotation".to_owned()];
    for k in &keys {
        let versions: Vec<String> = k
            .versions
            .iter()
            .map(|v| format!("v{} {}", v.version, v.state.name()))
            .collect();
        let rotation = match (k.rotation_period_seconds, next_due(k)) {
            (Some(p), Some(due)) => {
                let overdue = if due <= now { " (due now)" } else { "" };
                format!(
                    "  rotate every {} days, next due {}{overdue}",
                    p / 86_400,
                    rfc3339(due)
                )
            }
            _ => "  no rotation period".into(),
        };
        out.push(format!(
            "{}  id {}  primary v{}  min v{}  [{}]{rotation}",
            k.name,
            k.key_id,
            k.primary_version,
            k.min_decryption_version,
            versions.join(", ")
        ));
        for v in &k.versions {
            let primary = if v.version == k.primary_version {
                "  (primary)"
            } else {
                ""
            };
            out.push(format!(
                "  v{}  {}  created {}{primary}",
                v.version,
                state_label(k, v.version, v.state),
                rfc3339(v.created.as_unix_seconds())
            ));
        }
    }
    out.join("\n")
}

/// The `keys` array of the JSON documents.
pub(crate) fn keys_json(keyring: &Keyring) -> Value {
    let keys: Vec<Value> = keyring
        .keys()
        .iter()
        .map(|k| {
            let versions: Vec<Value> = k
                .versions
                .iter()
                .map(|v| {
                    json!({
                        "version": v.version,
                        "state": v.state.name(),
                        "created": rfc3339(v.created.as_unix_seconds()),
                        "decrypts": decrypts(k, v.version, v.state),
                    })
                })
                .collect();
            json!({
                "name": k.name,
                "key_id": k.key_id.to_string(),
                "created": rfc3339(k.created.as_unix_seconds()),
                "primary_version": k.primary_version,
                "min_decryption_version": k.min_decryption_version,
                "rotation_period_seconds": k.rotation_period_seconds,
                "next_rotation_due": next_due(k).map(rfc3339),
                "versions": versions,
            })
        })
        .collect();
    Value::Array(keys)
}

/// `inspect --json`.
pub(crate) fn envelope_json(info: &EnvelopeInfo) -> Value {
    let recipients: Vec<Value> = info
        .recipients
        .iter()
        .map(|r| match r.key {
            Some(k) => json!({"key_id": k.key_id.to_string(), "version": k.version}),
            None => json!({"key_id": null, "version": null}),
        })
        .collect();
    let context: serde_json::Map<String, Value> = info
        .context
        .iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
        .collect();
    json!({
        "format": info.format,
        "chunk_size": info.chunk_size,
        "chunk_count": info.chunk_count,
        "plaintext_len": info.plaintext_len,
        "header_len": info.header_len,
        "recipients": recipients,
        "context": context,
    })
}

/// A JSON document as printed: pretty, one trailing newline.
pub(crate) fn print(v: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).unwrap_or_else(|_| "null".into())
    );
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn rfc3339_of_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_798_761_599), "2026-12-31T23:59:59Z");
        assert_eq!(rfc3339(4_107_542_400), "2100-03-01T00:00:00Z");
    }
}
