//! The nearest route of a request that went nowhere: a path no route has (by its segments, a
//! typo costing its edit distance, a missing or extra segment a little more), or a method its
//! route does not take (the methods it does). The answer stays the gateway's; the hint goes to
//! the journal and the log line.

use axum::http::Method;

use crate::api::route::{Answer, Api, Route, Table};

/// What a missing or extra segment costs, against a typo's edit distance.
const SEGMENT_COST: usize = 3;
/// The most a path may differ from a route and still be hinted at.
const MAX_COST: usize = 6;

/// The hint for `method` on `path`, when the route table has no answer for it.
pub fn hint(table: &Table, route: Option<&Route>, method: &Method, path: &str) -> Option<String> {
    Some(nearest(table, route, method, path).unwrap_or_else(|| {
        format!("{method} {path}: no route is near this path (GET /openapi.json lists them)")
    }))
}

fn nearest(table: &Table, route: Option<&Route>, method: &Method, path: &str) -> Option<String> {
    if let Some(route) = route {
        return Some(format!(
            "{method} {path}: {} takes {}",
            route.template,
            methods(route)
        ));
    }
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let api = Api::of_unmatched(path);
    let (cost, route, note) = table
        .routes()
        .iter()
        .filter(|r| matches!(r.api, Api::Asset | Api::Iam) == matches!(api, Api::Asset | Api::Iam))
        .filter_map(|r| distance(&segments, r).map(|(cost, note)| (cost, r, note)))
        .min_by_key(|(cost, r, _)| (*cost, !takes(r, method)))?;
    if cost > MAX_COST {
        return None;
    }
    Some(format!(
        "{method} {path}: {note}? The nearest route is {}, which takes {}",
        route.template,
        methods(route)
    ))
}

/// Whether `route` answers `method`.
fn takes(route: &Route, method: &Method) -> bool {
    route.methods.iter().any(|(m, _)| m == method)
}

/// `POST (ExportAsset), GET (…)`.
fn methods(route: &Route) -> String {
    let each: Vec<String> = route
        .methods
        .iter()
        .map(|(m, answer)| match answer {
            Answer::Operation(op) => format!("{m} ({})", op.operation.id()),
            Answer::Handler(_) => m.to_string(),
        })
        .collect();
    each.join(", ")
}

/// How far `segments` are from `route`'s template, and what would fix them, or none when they
/// differ by more than one segment in length.
fn distance(segments: &[&str], route: &Route) -> Option<(usize, String)> {
    let template: Vec<&str> = route.template.split('/').skip(1).collect();
    match segments.len() as isize - template.len() as isize {
        0 => aligned(segments, &template),
        1 => (0..segments.len())
            .filter_map(|skip| {
                let fewer: Vec<&str> = without(segments, skip);
                let (cost, note) = aligned(&fewer, &template)?;
                let extra = match segments[skip] {
                    "" => "a `/` too many".to_owned(),
                    other => format!("`{other}` too many"),
                };
                Some(if cost == 0 {
                    (SEGMENT_COST, extra)
                } else {
                    (cost + SEGMENT_COST, note)
                })
            })
            .min_by_key(|(cost, _)| *cost),
        // A missing parameter before a missing literal, the later before the earlier: `jobs`
        // without its id is `{job_id}` missing, not `jobs`.
        -1 => (0..template.len())
            .rev()
            .filter_map(|skip| {
                let (cost, _) = aligned(segments, &without(&template, skip))?;
                let rank = (cost, !is_param(template[skip]));
                (cost == 0).then(|| (rank, format!("is `{}` missing", template[skip])))
            })
            .min_by_key(|(rank, _)| *rank)
            .map(|(_, note)| (SEGMENT_COST, note)),
        _ => None,
    }
}

fn without<'a>(all: &[&'a str], skip: usize) -> Vec<&'a str> {
    all.iter()
        .enumerate()
        .filter(|(i, _)| *i != skip)
        .map(|(_, s)| *s)
        .collect()
}

fn is_param(segment: &str) -> bool {
    segment.starts_with('{')
}

/// Segments against a template of the same length: a parameter takes any non-empty segment, a
/// literal costs its edit distance; the note names the first literal that differs.
fn aligned(segments: &[&str], template: &[&str]) -> Option<(usize, String)> {
    let mut cost = 0;
    let mut note = None;
    for (got, want) in segments.iter().zip(template) {
        if is_param(want) {
            if got.is_empty() {
                cost += SEGMENT_COST;
                note.get_or_insert_with(|| format!("{want} is empty"));
            }
            continue;
        }
        if got != want {
            cost += strsim::levenshtein(got, want).min(SEGMENT_COST * 2);
            note.get_or_insert_with(|| format!("did you mean `{want}` for `{got}`"));
        }
    }
    Some((
        cost,
        note.unwrap_or_else(|| "a method this route does not take".to_owned()),
    ))
}
