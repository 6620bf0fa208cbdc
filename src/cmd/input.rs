//! Reading the SQL a command runs: from its argument, or from standard input.

use std::io::{IsTerminal, Read};

/// The SQL from the argument, or from standard input when it is absent or `-`; one trailing
/// line break is dropped (so `echo ... |` works as expected).
pub fn read_sql(arg: Option<&str>) -> Result<String, String> {
    match arg {
        Some(sql) if sql != "-" => Ok(sql.to_owned()),
        _ => {
            let stdin = std::io::stdin();
            if arg.is_none() && stdin.is_terminal() {
                return Err(
                    "no SQL given: pass it as the last argument, or on standard input \
                     (`-` reads it from the terminal until end of file)"
                        .to_owned(),
                );
            }
            let mut bytes = Vec::new();
            stdin
                .lock()
                .read_to_end(&mut bytes)
                .map_err(|e| format!("cannot read SQL from standard input: {e}"))?;
            let mut sql = String::from_utf8(bytes).map_err(|_| {
                "standard input is not UTF-8 text; pass the SQL as UTF-8".to_owned()
            })?;
            let kept = sql.trim_end_matches(['\n', '\r']).len();
            sql.truncate(kept);
            Ok(sql)
        }
    }
}
