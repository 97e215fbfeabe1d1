//! Printing results: readable text for people, JSON for scripts.

use serde::Serialize;
use serde_json::Value;

use ehr_client::{EhrClientError, Result};

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
        Value::Object(map) if map.is_empty() => out.push_str(&format!("{pad}(none)\n")),
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::Null => {}
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
