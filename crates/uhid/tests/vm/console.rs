//! What the guest said on its serial console, read back: the `TAP2KEY-VM ...` lines that
//! /init and `tap2key-uhid-keys` print, as `key=value` words (`detail=` takes the rest of
//! the line).

use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct Report {
    /// Guest uptime (seconds) when /init started, and when the scenarios were done.
    pub guest_start: Option<f64>,
    pub guest_end: Option<f64>,
    /// How many scenarios the driver said it would run.
    pub expected: Option<usize>,
    pub driver_seconds: Option<f64>,
    pub scenarios: Vec<ScenarioResult>,
    /// Scenarios that started and never reported (the guest died or hung in them).
    pub unfinished: Vec<String>,
    pub failed_modules: Vec<String>,
}

#[derive(Debug)]
pub struct ScenarioResult {
    pub name: String,
    pub passed: bool,
    pub seconds: String,
    pub detail: String,
}

pub fn read(console: &str) -> Report {
    let mut report = Report::default();
    let mut started = Vec::new();
    for line in console.lines() {
        let Some(rest) = line.split_once("TAP2KEY-VM ").map(|(_, rest)| rest.trim_end_matches('\r')) else { continue };
        let words = words(rest);
        let number = |key: &str| words.get(key).and_then(|v| v.parse::<f64>().ok());
        if rest.starts_with("guest-start") {
            report.guest_start = number("uptime");
        } else if rest.starts_with("guest-end") {
            report.guest_end = number("uptime");
        } else if rest.starts_with("driver") {
            report.driver_seconds = number("seconds");
        } else if let Some(count) = words.get("scenarios") {
            report.expected = count.parse().ok();
        } else if let Some(module) = words.get("module") {
            report.failed_modules.push(module.clone());
        } else if let Some(name) = words.get("scenario") {
            match words.get("result").map(String::as_str) {
                None => started.push(name.clone()),
                Some(result) => report.scenarios.push(ScenarioResult {
                    name: name.clone(),
                    passed: result == "pass",
                    seconds: words.get("seconds").cloned().unwrap_or_default(),
                    detail: words.get("detail").cloned().unwrap_or_default(),
                }),
            }
        }
    }
    report.unfinished = started.into_iter().filter(|name| !report.scenarios.iter().any(|s| &s.name == name)).collect();
    report
}

fn words(line: &str) -> BTreeMap<String, String> {
    let (head, detail) = match line.split_once(" detail=") {
        Some((head, detail)) => (head, Some(detail)),
        None => (line, None),
    };
    let mut words: BTreeMap<String, String> =
        head.split_whitespace().filter_map(|word| word.split_once('=')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    if let Some(detail) = detail {
        words.insert("detail".into(), detail.to_owned());
    }
    words
}

#[test]
fn reads_results_timings_and_scenarios_that_never_ended() {
    let console = "noise\r\nTAP2KEY-VM guest-start uptime=2.31\r\nTAP2KEY-VM scenarios=2\nTAP2KEY-VM scenario=a started\n\
                   TAP2KEY-VM scenario=a result=pass seconds=3.0 detail=it worked, x=1\nTAP2KEY-VM scenario=b started\n\
                   [ 9.1] kernel noise\nTAP2KEY-VM guest-end uptime=20.5 status=1\n";
    let report = read(console);
    assert_eq!(report.guest_start, Some(2.31));
    assert_eq!(report.guest_end, Some(20.5));
    assert_eq!(report.expected, Some(2));
    assert_eq!(report.scenarios.len(), 1);
    assert!(report.scenarios[0].passed);
    assert_eq!(report.scenarios[0].detail, "it worked, x=1");
    assert_eq!(report.unfinished, ["b"]);
}
