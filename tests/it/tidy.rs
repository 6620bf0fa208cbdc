//! Tidiness rules over the repository's source files, checked on the files as they are on
//! disk (so files added later are covered without touching this test):
//!
//! - every library source file (`.rs` under `crates/*/src/` and `src/`) opens with a `//!`
//!   header saying what it is for, as its first non-empty line;
//! - no test anywhere (`.rs` under `crates/`, `tests/`, `src/`, `benches/`) is ignored
//!   without a reason: `#[ignore = "why"]`, never a bare `#[ignore]` (nor
//!   `#[cfg_attr(..., ignore)]`, nor an empty reason).
//!
//! A failure names each offending file and line. The checks work on text, so they are also
//! tested on planted bad inputs below.

use std::path::{Path, PathBuf};

/// The directories whose `.rs` files must open with a `//!` header: `src/` of every crate
/// under `crates/`, and the root package's `src/`.
fn library_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![root.join("src")];
    if let Ok(entries) = std::fs::read_dir(root.join("crates")) {
        let mut crates: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path().join("src"))
            .filter(|src| src.is_dir())
            .collect();
        crates.sort();
        dirs.extend(crates);
    }
    dirs
}

/// The directories where a test may live.
fn test_dirs(root: &Path) -> Vec<PathBuf> {
    ["crates", "tests", "src", "benches"]
        .iter()
        .map(|dir| root.join(dir))
        .collect()
}

/// Every `.rs` file under `dirs`, sorted; build output (`target`) and hidden directories
/// are skipped, symbolic links are not followed.
fn rust_files(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending: Vec<PathBuf> = dirs.iter().filter(|d| d.is_dir()).cloned().collect();
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() && !name.starts_with('.') && name != "target" {
                pending.push(path);
            } else if kind.is_file() && name.ends_with(".rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files.dedup();
    files
}

/// Where a file breaks the header rule: the line and what is wrong, or `None`.
fn header_problem(text: &str) -> Option<(usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match text
        .lines()
        .enumerate()
        .find(|(_, line)| !line.trim().is_empty())
    {
        None => Some((1, "empty file: no `//!` header".to_owned())),
        Some((_, line)) if line.trim_start().starts_with("//!") => None,
        Some((index, line)) => Some((
            index + 1,
            format!(
                "the first non-empty line is not a `//!` header saying what the file is for: {:?}",
                line.trim()
            ),
        )),
    }
}

/// `text` with comments and the contents of string and character literals replaced by
/// spaces, byte for byte (line breaks kept), so that offsets and line numbers still match
/// `text` and only code is left to search.
fn code_only(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for byte in &mut out[from..to.min(bytes.len())] {
            if *byte != b'\n' {
                *byte = b' ';
            }
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"//") {
            let end = rest
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |n| i + n);
            blank(&mut out, i, end);
            i = end;
        } else if rest.starts_with(b"/*") {
            // Block comments nest.
            let (mut depth, mut j) = (1, i + 2);
            while j < bytes.len() && depth > 0 {
                if bytes[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if bytes[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if let Some(end) = raw_string_end(bytes, i) {
            blank(&mut out, i, end);
            i = end;
        } else if rest[0] == b'"' {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'"' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            // The quotes stay, so an empty string is still visible as `""`.
            blank(&mut out, i + 1, j);
            i = j + 1;
        } else if rest[0] == b'\'' {
            i = char_literal_end(bytes, i).map_or(i + 1, |end| {
                blank(&mut out, i, end);
                end
            });
        } else if rest[0].is_ascii_alphanumeric() || rest[0] == b'_' {
            // A whole identifier at once, so that the `r` of `for` or the `b` of `rb` is
            // never taken for a raw-string or byte-string prefix.
            // (`b"…"` and `c"…"` go on to the string at the quote.)
            i += rest
                .iter()
                .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
                .unwrap_or(rest.len());
        } else {
            i += 1;
        }
    }
    out
}

/// The end of the raw string (`r"…"`, `r#"…"#`, `br"…"`, `cr#"…"#`) starting at `start`.
fn raw_string_end(bytes: &[u8], start: usize) -> Option<usize> {
    if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
        return None;
    }
    let mut j = start;
    if matches!(bytes.get(j), Some(b'b' | b'c')) {
        j += 1;
    }
    if bytes.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    let hashes = bytes[j..].iter().take_while(|&&b| b == b'#').count();
    j += hashes;
    if bytes.get(j) != Some(&b'"') {
        return None;
    }
    let mut closing = vec![b'"'];
    closing.extend(std::iter::repeat_n(b'#', hashes));
    let body = j + 1;
    let end = bytes[body..]
        .windows(closing.len())
        .position(|w| w == closing.as_slice())
        .map_or(bytes.len(), |n| body + n + closing.len());
    Some(end)
}

/// The end of the character literal starting at `start` (a `'`), or `None` for a lifetime
/// or a label (`'a`, `'static`).
fn char_literal_end(bytes: &[u8], start: usize) -> Option<usize> {
    let rest = &bytes[start + 1..];
    if rest.first() == Some(&b'\\') {
        // An escape: up to the closing quote (`'\n'`, `'\''`, `'\u{1F600}'`).
        let close = rest.iter().skip(2).position(|&b| b == b'\'')?;
        return Some(start + 1 + 2 + close + 1);
    }
    // One character, of one to four bytes in UTF-8 (the text is valid UTF-8).
    let width = match rest.first()? {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    };
    (rest.get(width) == Some(&b'\'')).then_some(start + 1 + width + 1)
}

/// The lines (1-based) of the attributes in `text` that ignore a test without a reason:
/// `#[ignore]`, `#[cfg_attr(..., ignore)]`, or `#[ignore = ""]`.
fn bare_ignores(text: &str) -> Vec<usize> {
    let code = code_only(text);
    let mut lines = Vec::new();
    let mut i = 0;
    while let Some(offset) = code[i..].windows(2).position(|w| w == b"#[") {
        let open = i + offset + 2;
        let close = matching_bracket(&code, open).unwrap_or(code.len());
        let attribute = String::from_utf8_lossy(&code[open..close]);
        let original = text.get(open..close).unwrap_or_default();
        if ignores_without_reason(&attribute, original) {
            lines.push(1 + code[..open].iter().filter(|&&b| b == b'\n').count());
        }
        i = open;
    }
    lines
}

/// The index of the `]` that closes the attribute whose contents start at `open`.
fn matching_bracket(code: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (n, &b) in code[open..].iter().enumerate() {
        match b {
            b'[' | b'(' | b'{' => depth += 1,
            b')' | b'}' => depth = depth.saturating_sub(1),
            b']' if depth == 0 => return Some(open + n),
            b']' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// Whether an attribute's contents ignore a test without a reason. `attribute` is the code
/// (strings blanked), `original` the same bytes as written (to read the reason).
fn ignores_without_reason(attribute: &str, original: &str) -> bool {
    let squeezed: String = attribute.split_whitespace().collect();
    if squeezed == "ignore" {
        return true;
    }
    if let Some(after) = squeezed.strip_prefix("ignore=") {
        // The reason is the string literal: blank when it is empty or only spaces.
        let reason = original
            .split_once('=')
            .map(|(_, value)| value.trim().trim_matches('"').trim())
            .unwrap_or_default();
        return after.starts_with('"') && reason.is_empty();
    }
    if let Some(inner) = squeezed
        .strip_prefix("cfg_attr(")
        .and_then(|s| s.strip_suffix(')'))
    {
        return top_level_items(inner)
            .into_iter()
            .skip(1)
            .any(|item| item == "ignore");
    }
    false
}

/// `text` split at the commas that are not inside brackets.
fn top_level_items(text: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (n, c) in text.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                items.push(&text[start..n]);
                start = n + 1;
            }
            _ => {}
        }
    }
    items.push(&text[start..]);
    items
}

/// Every breach of the rules under `root`, one line each: `path:line: what is wrong`, the
/// path relative to `root`.
fn violations(root: &Path) -> Vec<String> {
    let name = |path: &Path| {
        path.strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string()
    };
    let mut found = Vec::new();
    for path in rust_files(&library_dirs(root)) {
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                if let Some((line, problem)) = header_problem(&text) {
                    found.push(format!("{}:{line}: {problem}", name(&path)));
                }
            }
            Err(error) => found.push(format!("{}: cannot read: {error}", name(&path))),
        }
    }
    for path in rust_files(&test_dirs(root)) {
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                for line in bare_ignores(&text) {
                    found.push(format!(
                        "{}:{line}: a test is ignored without a reason; write \
                         #[ignore = \"why it does not run by default\"]",
                        name(&path)
                    ));
                }
            }
            Err(error) => found.push(format!("{}: cannot read: {error}", name(&path))),
        }
    }
    found.sort();
    found.dedup();
    found
}

#[test]
fn the_repository_is_tidy() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let library = rust_files(&library_dirs(root));
    assert!(
        library.len() > 20 && library.iter().any(|p| p.ends_with("src/main.rs")),
        "the walk found too few library files: {library:?}"
    );
    let found = violations(root);
    assert!(
        found.is_empty(),
        "{} tidiness problem(s):\n{}",
        found.len(),
        found.join("\n")
    );
}

#[test]
fn a_header_must_come_first() {
    assert_eq!(
        header_problem("//! What this is for.\n\nuse std::fs;\n"),
        None
    );
    assert_eq!(
        header_problem("\n\n  //! Indented, after blank lines.\n"),
        None
    );
    assert_eq!(
        header_problem("\u{feff}//! After a byte-order mark.\n"),
        None
    );
    let (line, problem) = header_problem("\n\nuse std::fs;\n//! Too late.\n").expect("planted");
    assert_eq!(line, 3);
    assert!(problem.contains("use std::fs;"), "{problem}");
    for planted in [
        "/// An item's doc comment, not the module's.\nfn f() {}\n",
        "// A plain comment.\n//! Too late.\n",
        "#![deny(missing_docs)]\n//! After an attribute.\n",
        "/*! A block header is not the convention. */\n",
    ] {
        assert_eq!(
            header_problem(planted).map(|(line, _)| line),
            Some(1),
            "{planted:?}"
        );
    }
    assert_eq!(header_problem("").map(|(line, _)| line), Some(1));
    assert_eq!(header_problem(" \n\t\n").map(|(line, _)| line), Some(1));
}

#[test]
fn an_ignore_needs_a_reason() {
    let planted = "\
//! Planted.

#[test]
#[ignore]
fn bare() {}

#[test]
#[ignore = \"needs the sqllogictest corpus\"]
fn with_a_reason() {}

#[test]
#[ignore = \"\"]
fn empty_reason() {}

#[test]
#[cfg_attr(miri, ignore)]
fn bare_under_cfg_attr() {}

#[test]
#[cfg_attr(miri, ignore = \"too slow under miri\")]
fn reason_under_cfg_attr() {}

#[test]
#[ ignore ]
fn spaced() {}

#[test]
#[
    ignore
]
fn over_lines() {}

#[test] #[ignore] fn on_one_line() {}
";
    assert_eq!(bare_ignores(planted), [4, 12, 16, 24, 28, 33]);
}

#[test]
fn ignores_in_comments_and_strings_are_not_attributes() {
    let planted = r####"//! Planted.

// #[ignore]
/* #[ignore] /* nested */ #[ignore] */
/// ```
/// #[ignore]
/// ```
const A: &str = "#[ignore]";
const B: &str = r#"
#[ignore]
"#;
const C: &[u8] = br##"#[ignore] "# still inside"##;
const D: &str = "escaped \" #[ignore]";
const E: char = '"';
const F: &str = "after a quote character: #[ignore]";
fn lifetimes<'a>(x: &'a str) -> &'a str { x }
const G: &str = "after lifetimes: #[ignore]";
const H: char = '\'';
const I: &str = "after an escaped quote: #[ignore]";
#[test]
#[ignore]
fn the_only_real_one() {}
"####;
    assert_eq!(bare_ignores(planted), [21]);
}

#[test]
fn a_planted_tree_fails_naming_each_file_and_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let write = |path: &str, text: &str| {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        std::fs::write(path, text).expect("write");
    };
    write("src/main.rs", "//! The binary.\nfn main() {}\n");
    write("crates/new/src/lib.rs", "//! A new crate.\npub mod deep;\n");
    write("crates/new/src/deep/mod.rs", "pub fn f() {}\n");
    write(
        "crates/new/tests/t.rs",
        "#[test]\n#[ignore = \"slow\"]\nfn a() {}\n#[test]\n#[ignore]\nfn b() {}\n",
    );
    write("benches/b.rs", "#[cfg_attr(unix, ignore)]\nfn c() {}\n");
    write("tests/it/ok.rs", "#[test]\nfn d() {}\n");
    // Not checked: build output, and files that are not Rust.
    write("crates/new/target/debug/build/out.rs", "#[ignore]\n");
    write("src/notes.txt", "#[ignore]\n");
    let found = violations(root);
    let places: Vec<&str> = found
        .iter()
        .map(|line| line.split(": ").next().unwrap_or_default())
        .collect();
    let sep = std::path::MAIN_SEPARATOR;
    let expected: Vec<String> = [
        "benches/b.rs:1",
        "crates/new/src/deep/mod.rs:1",
        "crates/new/tests/t.rs:5",
    ]
    .iter()
    .map(|p| p.replace('/', &sep.to_string()))
    .collect();
    assert_eq!(places, expected, "{found:#?}");
}
