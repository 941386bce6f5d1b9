//! Config files: TOML text to a checked [`Experiment`], and back to the
//! resolved TOML a run stores. The checks themselves live in the library
//! (each section in the crate that owns it); here only the syntax.

use std::path::Path;

use evonet::{ConfigError, Experiment, ExperimentConfig, Registry};

/// Parses TOML into the typed description. A syntax error keeps the line,
/// column and snippet the toml crate gives (on one line, as every config
/// error); a wrong value names its key and its line.
pub fn parse(file: &Path, text: &str) -> Result<ExperimentConfig, ConfigError> {
    let de = toml::Deserializer::parse(text)
        .map_err(|e| ConfigError::new(file, "", located(text, &e, "TOML syntax error")))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let mut key = e.path().to_string();
        if key == "." {
            key.clear();
        }
        let mut message = located(text, e.inner(), "");
        // A tagged section (`[strategy]`, `[data]`, `[search_space]`) is
        // buffered before its variant is known, so serde names only the
        // table of a wrong value: find the key whose value it describes.
        if let Some((field, at)) = wrong_value_in(text, &key, e.inner().message()) {
            message = format!("{} ({at})", one_line(e.inner().message()));
            key = format!("{key}.{field}");
        }
        // serde names the table of an unknown key; name the key itself.
        if let Some(field) = message
            .strip_prefix("unknown field `")
            .and_then(|m| m.split('`').next())
        {
            key = if key.is_empty() {
                field.to_string()
            } else {
                format!("{key}.{field}")
            };
        }
        ConfigError::new(file, key, message)
    })
}

/// Parses and checks a config file's text against the built-in registry.
pub fn experiment(file: &Path, text: &str) -> Result<Experiment, ConfigError> {
    Experiment::new(file, parse(file, text)?, &Registry::builtin())
}

/// Reads, parses and checks a config file.
pub fn read(file: &Path) -> Result<Experiment, ConfigError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| ConfigError::new(file, "", format!("cannot read config: {e}")))?;
    experiment(file, &text)
}

/// The resolved config as TOML (defaults filled in).
pub fn to_toml(cfg: &ExperimentConfig) -> String {
    // Serde data of strings, numbers, tables and arrays: TOML can hold it.
    toml::to_string_pretty(cfg).unwrap_or_default()
}

/// The one key of table `section` whose value serde's `message` describes
/// (`invalid type: string "abc", expected usize`), with its line and
/// snippet.
fn wrong_value_in(text: &str, section: &str, message: &str) -> Option<(String, String)> {
    if section.is_empty() || section.contains('.') {
        return None;
    }
    let table: toml::Table = toml::from_str(text).ok()?;
    let entries = table.get(section)?.as_table()?;
    let mut matching = entries
        .iter()
        .filter(|(_, v)| message.contains(&unexpected(v)))
        .map(|(k, _)| k.clone());
    let field = matching.next()?;
    if matching.next().is_some() {
        return None;
    }
    let header = format!("[{section}]");
    let mut inside = false;
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if t.starts_with('[') {
            inside = t == header;
        } else if inside && t.split('=').next().is_some_and(|k| k.trim() == field) {
            return Some((field, format!("line {}, column 1: `{t}`", i + 1)));
        }
    }
    Some((field, format!("in `{header}`")))
}

/// How serde's "invalid type" messages describe a value.
fn unexpected(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => format!("string {s:?}"),
        toml::Value::Integer(i) => format!("integer `{i}`"),
        toml::Value::Float(f) => format!("floating point `{f}`"),
        toml::Value::Boolean(b) => format!("boolean `{b}`"),
        toml::Value::Datetime(d) => format!("{d}"),
        toml::Value::Array(_) => "sequence".into(),
        toml::Value::Table(_) => "map".into(),
    }
}

/// The error's message with where it is: `line L, column C: `snippet``.
fn located(text: &str, e: &toml::de::Error, what: &str) -> String {
    let message = one_line(e.message());
    let Some(span) = e.span() else {
        return if what.is_empty() {
            message
        } else {
            format!("{what}: {message}")
        };
    };
    let start = span.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..start].matches('\n').count() + 1;
    let column = text[line_start..start].chars().count() + 1;
    let snippet = text[line_start..].lines().next().unwrap_or("").trim();
    let at = format!("line {line}, column {column}: `{snippet}`");
    if what.is_empty() {
        format!("{message} ({at})")
    } else {
        format!("{what} at {at}: {message}")
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The header line of a run folder's `config.toml` that names its run (the
/// id its checkpoints carry).
pub const RUN_ID_LINE: &str = "# Run: ";

/// The run id in the header of a run folder's `config.toml`.
pub fn run_id_of(text: &str) -> Option<&str> {
    text.lines()
        .take_while(|l| l.starts_with('#'))
        .find_map(|l| l.strip_prefix(RUN_ID_LINE))
        .map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[run]
seed = 3
max_generations = 10
[env]
id = "CartPole-v1"
[strategy]
kind = "deep_ga"
population = 50
truncation = 10
sigma = 0.05
"#;

    fn check(t: &str) -> Result<Experiment, ConfigError> {
        experiment(Path::new("x.toml"), t)
    }

    #[test]
    fn parses_and_round_trips() {
        let c = check(GOOD).unwrap();
        assert_eq!(c.config().run.seed, 3);
        assert_eq!(c.config().policy().hidden, vec![64, 64]);
        let again = check(&to_toml(c.config())).unwrap();
        assert_eq!(c.config(), again.config());
    }

    #[test]
    fn errors_name_the_key() {
        let e = check(&GOOD.replace("sigma = 0.05", "sigma = 0.05\nsigmaa = 1")).unwrap_err();
        assert_eq!(e.key, "strategy.sigmaa", "{e}");
        assert!(e.message.contains("sigmaa"), "{e}");
        let e = check(&GOOD.replace("seed = 3", "seed = \"three\"")).unwrap_err();
        assert_eq!(e.key, "run.seed", "{e}");
        let e = check(&GOOD.replace("sigma = 0.05", "sigma = -1.0")).unwrap_err();
        assert_eq!(e.key, "strategy.sigma", "{e}");
        let e = check(&GOOD.replace("CartPole-v1", "CartPole-v9")).unwrap_err();
        assert_eq!(e.key, "env.id");
        assert!(
            e.message.contains("CartPole-v1"),
            "lists the available ids: {e}"
        );
        let e = check(&GOOD.replace("[env]", "[env]\nfoo = 1")).unwrap_err();
        assert!(e.to_string().starts_with("x.toml: `env"), "{e}");
    }

    #[test]
    fn syntax_errors_keep_line_column_and_snippet() {
        let e = check(&GOOD.replace("seed = 3", "seed = = 3")).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("line 3, column 8"), "{text}");
        assert!(text.contains("`seed = = 3`"), "the snippet: {text}");
        assert_eq!(text.lines().count(), 1, "{text}");
        let e = check(&GOOD.replace("seed = 3", "seed = \"three\"")).unwrap_err();
        assert!(e.to_string().contains("(line 3, column 8"), "{e}");
    }
}
