//! The router serves exactly the functions of the API's table, each as the
//! table says it is called (the handlers' types are checked at compile time).
#![allow(missing_docs, clippy::unwrap_used, clippy::panic)]

mod common;

use ehr_api::functions::{ALL, Kind};
use serde_json::Value;

#[test]
fn the_router_serves_the_table_and_nothing_else() {
    let router = common::router();
    let md: Value = serde_json::from_slice(router.metadata()).unwrap();
    let served = md["contracts"]["ehr"]["transactions"].as_array().unwrap();
    assert_eq!(served.len(), ALL.len(), "the router and ehr_api::functions::ALL differ in size");
    for (name, kind, params) in ALL {
        let tx = served.iter().find(|t| t["name"] == *name).unwrap_or_else(|| panic!("{name} is not served"));
        let tags: Vec<&str> = tx["tag"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
        let expected: &[&str] = match kind {
            Kind::Evaluate => &["EVALUATE", "evaluate"],
            Kind::Submit => &["SUBMIT", "submit"],
            Kind::SubmitTransient => &["SUBMIT", "submit", "TRANSIENT"],
        };
        assert_eq!(tags, expected, "{name}");
        let names: Vec<&str> =
            tx["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(names, *params, "{name}");
    }
}
