//! Task parameters: `envs/<id>.toml` (built in), overridden key by key by a
//! user's TOML file.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::EnvError;

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

pub(crate) fn parse<T: DeserializeOwned>(text: &str, origin: &str) -> Result<T, EnvError> {
    toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map_or((0, 0), |s| line_col(text, s.start));
        let message = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
        EnvError::Config { origin: origin.to_owned(), line, column, message }
    })
}

/// The parameters of a task: the built-in defaults `base` (the text of
/// `envs/<id>.toml`), with the keys of `user` (a file) on top, table by
/// table.
///
/// `T` must deny unknown fields and default every field: the user's file
/// is first checked alone, so that an unknown key or a wrong type is
/// reported with the user's file, line and column.
pub fn load<T: DeserializeOwned + Default>(base: &str, base_origin: &str, user: Option<&Path>) -> Result<T, EnvError> {
    let Some(path) = user else {
        return parse(base, base_origin);
    };
    load_over(parse(base, base_origin)?, base_origin, Some(path))
}

/// Layers of built-in TOML texts (`(text, origin)`, each over the ones
/// before, table by table), then the user's file on top. Each layer must
/// parse as `T` on its own.
pub fn load_layers<T: DeserializeOwned + Default>(layers: &[(&str, &str)], user: Option<&Path>) -> Result<T, EnvError> {
    let mut base = toml::Table::new();
    let mut origin = "";
    for &(text, layer_origin) in layers {
        let _checked: T = parse(text, layer_origin)?;
        merge(&mut base, parse(text, layer_origin)?);
        origin = layer_origin;
    }
    load_over(base, origin, user)
}

/// The same over defaults given as a TOML table (a config serialised
/// without going through text).
pub fn load_over<T: DeserializeOwned + Default>(
    mut base: toml::Table,
    base_origin: &str,
    user: Option<&Path>,
) -> Result<T, EnvError> {
    let origin = user.map_or(base_origin.to_owned(), |p| p.display().to_string());
    if let Some(path) = user {
        let text = std::fs::read_to_string(path).map_err(|source| EnvError::Io { path: path.to_owned(), source })?;
        let _checked: T = parse(&text, &origin)?;
        merge(&mut base, parse(&text, &origin)?);
    }
    toml::Value::Table(base).try_into().map_err(|e: toml::de::Error| EnvError::Config {
        origin,
        line: 0,
        column: 0,
        message: e.message().split_whitespace().collect::<Vec<_>>().join(" "),
    })
}

fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq, serde::Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Cfg {
        a: f32,
        b: u32,
    }

    fn user_file(text: &str) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("tactile-cfg-{}-{}.toml", std::process::id(), text.len()));
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn user_keys_override_the_defaults() {
        let p = user_file("b = 7\n");
        let c: Cfg = load("a = 1.5\nb = 2\n", "base", Some(&p)).unwrap();
        assert_eq!(c, Cfg { a: 1.5, b: 7 });
    }

    #[test]
    fn unknown_keys_and_wrong_types_name_the_user_file_and_line() {
        let p = user_file("a = 1.0\nbee = 3\n");
        let e = load::<Cfg>("a = 1.5\nb = 2\n", "base", Some(&p)).unwrap_err().to_string();
        assert!(e.contains(&format!("{}:2:", p.display())) && e.contains("bee"), "{e}");
        let p = user_file("a = \"x\"\n");
        let e = load::<Cfg>("a = 1.5\nb = 2\n", "base", Some(&p)).unwrap_err().to_string();
        assert!(e.contains(":1:") && e.contains("invalid type"), "{e}");
    }
}
