//! Property test of the config path: every shipped config, with any of its
//! values replaced by an extreme or ill-typed one (or the line dropped or
//! repeated), is either accepted or refused with a one-line error naming
//! the file; parsing and checking never panic (a panic is exit status 101,
//! an error exit status 2).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use proptest::prelude::*;

use crate::config_file;

fn shipped() -> Vec<(PathBuf, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
    let mut all: Vec<_> = std::fs::read_dir(&dir)
        .expect("configs/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("config text");
            (p, text)
        })
        .collect();
    all.sort();
    all
}

/// Values a user might type, or that break bounds.
fn extreme() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("9223372036854775807".to_string()),
        Just("-9223372036854775808".to_string()),
        Just("18446744073709551615".to_string()),
        Just("17592186044416".to_string()),
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("1e300".to_string()),
        Just("-1e300".to_string()),
        Just("inf".to_string()),
        Just("-inf".to_string()),
        Just("nan".to_string()),
        Just("0.0".to_string()),
        Just("1e-300".to_string()),
        Just("\"abc\"".to_string()),
        Just("\"\"".to_string()),
        Just("true".to_string()),
        Just("[]".to_string()),
        Just("[0]".to_string()),
        Just("[9223372036854775807, 9223372036854775807]".to_string()),
        Just("{}".to_string()),
        any::<i64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| format!("{v:e}")),
    ]
}

/// How a line is changed.
#[derive(Debug, Clone)]
enum Edit {
    Value(String),
    Drop,
    Repeat,
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        8 => extreme().prop_map(Edit::Value),
        1 => Just(Edit::Drop),
        1 => Just(Edit::Repeat),
    ]
}

/// The config with its `index`-th `key = value` line edited.
fn mutated(text: &str, index: usize, edit: &Edit) -> String {
    let settings: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with('#') && l.contains('='))
        .map(|(i, _)| i)
        .collect();
    let target = settings[index % settings.len()];
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if i != target {
            out.push(line.to_string());
            continue;
        }
        let key = line.split('=').next().unwrap_or("").trim_end();
        match edit {
            Edit::Value(v) => out.push(format!("{key} = {v}")),
            Edit::Drop => {}
            Edit::Repeat => {
                out.push(line.to_string());
                out.push(line.to_string());
            }
        }
    }
    out.join("\n")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn any_edit_of_a_shipped_config_is_accepted_or_refused_in_one_line(
        which in any::<usize>(),
        index in any::<usize>(),
        edit in edit(),
    ) {
        let configs = shipped();
        let (path, text) = &configs[which % configs.len()];
        let text = mutated(text, index, &edit);
        let checked = catch_unwind(AssertUnwindSafe(|| config_file::experiment(path, &text)));
        let Ok(result) = checked else {
            return Err(TestCaseError::fail(format!("panicked on:\n{text}")));
        };
        if let Err(e) = result {
            let message = e.to_string();
            prop_assert!(!message.contains('\n'), "{message}");
            prop_assert!(message.contains(&path.display().to_string()), "{message}");
        }
    }
}
