//! How our records become FHIR R4 resources, and how another system's come back.
//!
//! Every exported resource carries our record id (`urn:ehr:record-id`) and
//! its version as `meta.versionId`; every imported record carries its origin
//! (the source resource's identity and the SHA-256 of its canonical JSON),
//! which makes importing the same bundle twice write nothing new. What an
//! import does not keep (a resource, or an element of one) is listed in
//! [`Import::unmapped`](crate::Import::unmapped); what an export leaves out,
//! in [`Export::unmapped`](crate::Export::unmapped).
//!
#![doc = include_str!("../MAPPING.md")]

#[cfg(test)]
mod tests {
    #[test]
    fn the_readme_shows_this_table() {
        let table = include_str!("../MAPPING.md");
        let readme = include_str!("../../README.md");
        assert!(readme.contains(table), "README.md's FHIR table differs from fhir/MAPPING.md: copy it over");
    }
}
