//! Printing results: readable text for people, JSON for scripts.

use serde::Serialize;
use serde_json::Value;

use ehr_api::model::Person;
use ehr_client::files::Progress;
use ehr_client::{EhrClientError, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Where results go and in which form.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    json: bool,
}

impl Output {
    pub(crate) fn new(json: bool) -> Self {
        Self { json }
    }

    pub(crate) fn is_json(&self) -> bool {
        self.json
    }

    /// Prints a result: one JSON document, or a heading and indented fields.
    pub(crate) fn show<T: Serialize>(&self, heading: &str, value: &T) -> Result<()> {
        let value = serde_json::to_value(value).map_err(|e| EhrClientError::Encode(e.to_string()))?;
        if self.json {
            println!("{value}");
        } else {
            if !heading.is_empty() {
                println!("{heading}");
            }
            let mut text = String::new();
            render(&value, 1, &mut text);
            print!("{text}");
        }
        Ok(())
    }

    /// A line for people only (progress of a multi-step command); silent in JSON mode.
    pub(crate) fn say(&self, line: &str) {
        if !self.json {
            println!("{line}");
        }
    }
}

/// Renders JSON as indented `key: value` lines.
fn render(value: &Value, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    match value {
        Value::Object(map) if map.len() == 2 && map.contains_key("id") && map.contains_key("msp") => {
            let person = Person {
                id: map["id"].as_str().unwrap_or_default().to_owned(),
                msp: map["msp"].as_str().unwrap_or_default().to_owned(),
            };
            out.push_str(&format!("{pad}{}\n", person.display_name()));
        }
        Value::Object(map) if map.is_empty() => out.push_str(&format!("{pad}(none)\n")),
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::Null => {}
                    Value::Object(m) if m.len() == 2 && m.contains_key("id") && m.contains_key("msp") => {
                        let mut line = String::new();
                        render(v, 0, &mut line);
                        out.push_str(&format!("{pad}{k}: {}", line.trim_start()));
                    }
                    Value::Object(_) | Value::Array(_) if !is_empty(v) => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        render(v, depth + 1, out);
                    }
                    _ => out.push_str(&format!("{pad}{k}: {}\n", scalar(v))),
                }
            }
        }
        Value::Array(items) if items.is_empty() => out.push_str(&format!("{pad}(none)\n")),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                match v {
                    Value::Object(_) | Value::Array(_) => {
                        out.push_str(&format!("{pad}- #{}\n", i + 1));
                        render(v, depth + 1, out);
                    }
                    _ => out.push_str(&format!("{pad}- {}\n", scalar(v))),
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(_) | Value::Object(_) => "(none)".into(),
        other => other.to_string(),
    }
}

/// A byte-count progress bar labelled `label` for a file transfer, drawn on
/// stderr only when stderr is a terminal, so that scripts and logs stay clean.
/// `total_bytes` is the expected size; the transfer corrects it once it
/// knows the real one.
pub(crate) fn progress_bar(total_bytes: u64, label: impl Into<String>) -> Progress {
    bar("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}", total_bytes, label.into())
}

/// A count progress bar (`records`) for long work of many steps, such as a
/// FHIR import, drawn like [`progress_bar`].
pub(crate) fn count_bar(unit: &str, label: impl Into<String>) -> Progress {
    bar(&format!("{{msg}} [{{bar:30}}] {{pos}}/{{len}} {unit} eta {{eta}}"), 0, label.into())
}

/// A bar drawn with `template`, fed by the library's progress callbacks.
fn bar(template: &str, total: u64, label: String) -> Progress {
    let style = ProgressStyle::with_template(template)
        .map(|style| style.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    let bar =
        ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr()).with_style(style).with_message(label);
    let (sized, moved, done) = (bar.clone(), bar.clone(), bar);
    Progress::hidden()
        .on_total(move |total| sized.set_length(total))
        .observe(move |position| moved.set_position(position))
        .on_finish(move |ok| if ok { done.finish() } else { done.abandon() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn people_render_as_one_line() {
        let id = base64::engine::general_purpose::STANDARD.encode("x509::CN=lab1,OU=client::CN=ca");
        let mut text = String::new();
        render(&serde_json::json!({"stamp": {"actor": {"id": id, "msp": "B"}, "at": 5}}), 0, &mut text);
        assert_eq!(text, "stamp:\n  actor: lab1 (B)\n  at: 5\n");
    }
}
