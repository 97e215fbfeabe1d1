//! HAPI FHIR's R4 instance validator (`tests/fhir-validator`), someone
//! else's code judging our bundles. Built with Maven on first use; offline
//! after Maven has downloaded the jars once. A missing `java` or `mvn` fails
//! the test that needs it, with what to install: nothing is skipped.

#![allow(dead_code, unreachable_pub, clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// One finding of the validator.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The validated file.
    pub file: String,
    /// `fatal`, `error`, `warning` or `information`.
    pub severity: String,
    /// FHIRPath-like location, e.g. `Bundle.entry[1].resource/*Condition/x*/.code`.
    pub location: String,
    /// What is wrong.
    pub message: String,
}

impl Finding {
    /// Whether it makes the resource invalid.
    pub fn is_error(&self) -> bool {
        matches!(self.severity.as_str(), "error" | "fatal")
    }
}

fn project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fhir-validator")
}

/// The validator's class path, building it when it is missing or older than its sources.
fn classpath() -> String {
    let dir = project();
    let list = dir.join("target/classpath.txt");
    let built = dir.join("target/classes/ehr/fhir/Validate.class");
    let newest_source = ["pom.xml", "src/main/java/ehr/fhir/Validate.java"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).and_then(|m| m.modified()).ok())
        .max();
    let stale = match (std::fs::metadata(&list), std::fs::metadata(&built), newest_source) {
        (Ok(_), Ok(class), Some(source)) => class.modified().map(|t| t < source).unwrap_or(true),
        _ => true,
    };
    if stale {
        let status = Command::new("mvn")
            .args(["-q", "-B", "compile", "dependency:build-classpath", "-Dmdep.outputFile=target/classpath.txt"])
            .current_dir(&dir)
            .status()
            .unwrap_or_else(|e| panic!("cannot run mvn ({e}); install Maven and a JDK 17+ (apt-get install maven)"));
        assert!(status.success(), "building the FHIR validator in {} failed (mvn output above)", dir.display());
    }
    let deps = std::fs::read_to_string(&list).unwrap_or_else(|e| panic!("{}: {e}", list.display()));
    format!("{}:{}", dir.join("target/classes").display(), deps.trim())
}

/// Validates `files` and returns every finding; panics when the validator cannot run.
pub fn validate(files: &[PathBuf]) -> Vec<Finding> {
    let out = Command::new("java")
        .arg("-cp")
        .arg(classpath())
        .arg("ehr.fhir.Validate")
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run java ({e}); install a JDK 17+"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        matches!(out.status.code(), Some(0 | 1)) && stdout.lines().any(|l| l.starts_with("errors: ")),
        "the validator did not run to the end (exit {:?}):\n{}\n{}",
        out.status.code(),
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .filter_map(|line| {
            let mut parts = line.splitn(4, '\t');
            let (file, severity, location, message) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            Some(Finding {
                file: file.into(),
                severity: severity.into(),
                location: location.into(),
                message: message.into(),
            })
        })
        .collect()
}
