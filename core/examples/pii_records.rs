//! The main job, end to end, on an in-memory keyring: create a key, encrypt
//! PII records, rotate, rewrap, decrypt, destroy the old version and show
//! that data still under it is gone for good.
//!
//! Run: `cargo run --release -p strongroom --example pii_records`

use std::process::ExitCode;

use strongroom::{EncryptionContext, Error, Keyring, inspect_record, record};

const CUSTOMERS: [(&str, &str); 3] = [
    ("1001", "ada@example.com"),
    ("1002", "grace@example.org"),
    ("1003", "edsger@example.net"),
];

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pii_records: {e}");
            ExitCode::FAILURE
        }
    }
}

fn context(row: &str) -> Result<EncryptionContext, Error> {
    EncryptionContext::new()
        .with("table", "customers")?
        .with("column", "email")?
        .with("row", row)
}

fn run() -> Result<(), Error> {
    let mut keyring = Keyring::new();
    let id = keyring.create_key("pii")?;
    keyring.set_rotation_period("pii", Some(90 * 24 * 3600))?;
    println!("created key \"pii\" (id {id}), version 1 primary, rotation period 90 days");

    // Encrypt every email under version 1, bound to its table/column/row.
    let mut column = Vec::new();
    for (row, email) in CUSTOMERS {
        // Binary record, then its text form for a string column.
        let record =
            record::to_text(&keyring.encrypt_record("pii", email.as_bytes(), &context(row)?)?);
        println!("  row {row}: {record}");
        column.push((row, record));
    }
    // A record kept aside (think: an old backup nobody rewraps).
    let (backup_row, backup) = (column[0].0, column[0].1.clone());

    // Rotate: version 2 becomes primary; version-1 records still decrypt.
    let v2 = keyring.rotate("pii")?;
    println!("rotated \"pii\": version {v2} is primary");
    for (row, record) in &column {
        let binary = record::from_text(record)?;
        let plaintext = keyring.decrypt_record(&binary, &context(row)?)?;
        let header = inspect_record(&binary)?;
        println!(
            "  row {row}: v{} decrypts to {} bytes",
            header.key_version,
            plaintext.len()
        );
    }

    // A wrong context is refused with the one opaque error.
    let wrong = keyring.decrypt_record(&record::from_text(&column[0].1)?, &context("9999")?);
    println!(
        "  row 1001 with row=9999 in the context: {}",
        describe(wrong)
    );

    // Rewrap the column to version 2, inside the library.
    let mut moved = 0;
    for (row, record) in &mut column {
        // `None`: already under the primary version, nothing to write back.
        if let Some(new) = keyring.rewrap_record(&record::from_text(record)?, &context(row)?)? {
            *record = record::to_text(&new);
            moved += 1;
        }
    }
    println!("rewrapped {moved} records to version {v2}");

    // Destroy version 1: the live column still decrypts, the backup is gone.
    keyring.destroy_version("pii", 1)?;
    let info = keyring.key_info("pii")?;
    let states: Vec<String> = info
        .versions
        .iter()
        .map(|v| format!("v{}={}", v.version, v.state.name()))
        .collect();
    println!("destroyed version 1: {}", states.join(", "));
    for (row, record) in &column {
        let plaintext = keyring.decrypt_record(&record::from_text(record)?, &context(row)?)?;
        let ok = CUSTOMERS
            .iter()
            .any(|(r, email)| r == row && email.as_bytes() == plaintext.expose_secret());
        println!("  row {row}: decrypts under v{v2}, matches the original: {ok}");
        if !ok {
            return Err(Error::AuthenticationFailed);
        }
    }
    let gone = keyring.decrypt_record(&record::from_text(&backup)?, &context(backup_row)?);
    println!(
        "  backup copy of row {backup_row} (v1): {}",
        describe(gone.as_ref().map(|_| ()))
    );
    match gone {
        Err(Error::VersionDestroyed { .. }) => {
            println!("done: the version-1 backup is unrecoverable, live data is intact");
            Ok(())
        }
        _ => Err(Error::Malformed {
            reason: "the destroyed version still decrypted",
        }),
    }
}

fn describe<T, E: core::fmt::Display>(r: Result<T, E>) -> String {
    match r {
        Ok(_) => "decrypted".to_string(),
        Err(e) => format!("refused: {e}"),
    }
}
