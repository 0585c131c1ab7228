//! Verification over the journal: how many requests of one namespace match an expectation, and
//! when the count does not hold, the entries that came nearest and how each differs. No HTTP
//! here: `POST /_emulator/verify` parses and shapes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Entry, Journal, Shared, Summary};
use crate::ids::Hex32;
use crate::operation::Operation;

/// How many near misses a failed verification lists.
pub const MAX_NEAR_MISSES: usize = 3;

/// The fields of an entry itself that `where` may name, besides the summary's.
pub const ENTRY_FIELDS: &[&str] = &["method", "path", "http_status", "error_code", "caller"];

/// What `POST /_emulator/verify` takes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// The project: a verification never matches across namespaces.
    pub project_id: String,
    /// The instance, if the expectation is of one.
    #[serde(default)]
    pub instance_id: Option<String>,
    /// The operation.
    pub operation: Operation,
    /// Fields the request must have: summary fields (`apps`, `prefix`, `type`, `job_id`,
    /// `status`, `user`…) and the entry's own ([`ENTRY_FIELDS`]).
    #[serde(default, rename = "where")]
    pub conditions: BTreeMap<String, Value>,
    /// How many must match (default: at least one).
    #[serde(default)]
    pub count: Count,
}

/// `{"eq": N}`, `{"min": N}`, `{"max": N}`, or `min` with `max`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Count {
    /// Exactly this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eq: Option<usize>,
    /// At least this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<usize>,
    /// At most this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<usize>,
}

impl Count {
    /// Whether `n` matches hold the count.
    pub fn holds(&self, n: usize) -> bool {
        if let Some(eq) = self.eq {
            return n == eq;
        }
        if self.min.is_none() && self.max.is_none() {
            return n >= 1;
        }
        self.min.is_none_or(|m| n >= m) && self.max.is_none_or(|m| n <= m)
    }
}

/// One field a near miss has otherwise than expected (`actual` null when it has none).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    /// The field.
    pub field: String,
    /// What the expectation asked for.
    pub expected: Value,
    /// What the request had.
    pub actual: Value,
}

/// A request that came near.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NearMiss {
    /// Its request id.
    pub request_id: Hex32,
    /// Its operation (none for a request no route has).
    pub operation: Option<Operation>,
    /// Its method and path.
    pub request: String,
    /// The status answered.
    pub http_status: u16,
    /// The hint of a request that went nowhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// What differs.
    pub differences: Vec<Difference>,
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// How many requests matched.
    pub matched: usize,
    /// Whether the count holds.
    #[serde(skip)]
    pub holds: bool,
    /// When it does not: the nearest requests, nearest first (none when it holds).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub near_misses: Vec<NearMiss>,
}

impl Expectation {
    /// Checks the expectation's own fields; the error names the bad one.
    pub fn validate(&self) -> Result<(), String> {
        for name in self.conditions.keys() {
            if !Summary::FIELDS.contains(&name.as_str()) && !ENTRY_FIELDS.contains(&name.as_str()) {
                return Err(format!(
                    "where.{name}: not a field a request is verified by (one of {}, {})",
                    Summary::FIELDS.join(", "),
                    ENTRY_FIELDS.join(", ")
                ));
            }
        }
        let Count { eq, min, max } = &self.count;
        if eq.is_some() && (min.is_some() || max.is_some()) {
            return Err("count: give eq, or min and/or max".into());
        }
        if let (Some(min), Some(max)) = (min, max)
            && min > max
        {
            return Err("count: min is above max".into());
        }
        Ok(())
    }

    /// What `entry` has otherwise than expected (empty: it matches).
    fn differences(&self, entry: &Entry) -> Vec<Difference> {
        let mut out = Vec::new();
        if entry.operation != Some(self.operation) {
            out.push(Difference {
                field: "operation".into(),
                expected: Value::from(self.operation.id()),
                actual: entry.operation.map_or(Value::Null, |op| Value::from(op.id())),
            });
        }
        // Read once an entry, only when a condition needs it.
        let summary = (!self.conditions.is_empty())
            .then(|| entry.summary.as_ref().map(super::SummaryText::read))
            .flatten();
        for (name, expected) in &self.conditions {
            let actual = field(entry, summary.as_ref(), name).unwrap_or(Value::Null);
            if !satisfies(&actual, expected) {
                out.push(Difference {
                    field: name.clone(),
                    expected: expected.clone(),
                    actual,
                });
            }
        }
        out
    }
}

/// A field of `entry` by name: its own, else its summary's (`user` is the token request's user,
/// else the caller).
fn field(entry: &Entry, summary: Option<&Summary>, name: &str) -> Option<Value> {
    match name {
        "method" => Some(Value::from(&*entry.method)),
        "path" => Some(Value::from(entry.path.as_str())),
        "http_status" => Some(Value::from(entry.status)),
        "error_code" => entry.error_code.as_deref().map(Value::from),
        "caller" => entry.user.as_deref().map(Value::from),
        "bytes_sent" | "complete" if entry.transfer.is_some() => {
            let (sent, complete) = entry.transfer.as_ref()?.read();
            Some(if name == "complete" {
                Value::from(complete)
            } else {
                Value::from(sent)
            })
        }
        "user" => summary
            .and_then(|s| s.field(name))
            .or_else(|| entry.user.as_deref().map(Value::from)),
        _ => summary?.field(name),
    }
}

/// Whether a request's value satisfies an expected one: equal, or for a list every expected item
/// present (an export of `["a", "b"]` satisfies `["a"]`).
pub fn satisfies(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Array(have), Value::Array(want)) => want.iter().all(|w| have.contains(w)),
        (Value::Array(have), want @ Value::String(_)) => have.contains(want),
        _ => actual == expected,
    }
}

/// Counts the entries of the expectation's namespace that match it; when the count does not
/// hold, the [`MAX_NEAR_MISSES`] nearest others (fewest differences, then newest). One pass over
/// the namespace's entries, copied out of the bounded journal first.
pub fn verify(journal: &Journal, expectation: &Expectation) -> Verdict {
    let mut matched = 0;
    // (differences, order) of the nearest so far; the order keeps the newest first among ties.
    let mut near: Vec<(usize, usize, Shared, Vec<Difference>)> = Vec::new();
    let mut order = 0;
    let entries = journal.of_namespace(&expectation.project_id, expectation.instance_id.as_deref());
    for entry in &entries {
        order += 1;
        let differences = expectation.differences(entry);
        if differences.is_empty() {
            matched += 1;
            continue;
        }
        // Another operation counts twice: the same operation's requests are nearer.
        let rank = differences.len() + usize::from(differences[0].field == "operation");
        let worst = near.iter().map(|n| n.0).max().unwrap_or(usize::MAX);
        if near.len() < MAX_NEAR_MISSES || rank < worst {
            near.push((rank, order, entry.clone(), differences));
            near.sort_by_key(|n| (n.0, n.1));
            near.truncate(MAX_NEAR_MISSES);
        }
    }
    let holds = expectation.count.holds(matched);
    let near_misses = if holds {
        Vec::new()
    } else {
        near.into_iter()
            .map(|(_, _, entry, differences)| NearMiss {
                request_id: entry.request_id,
                operation: entry.operation,
                request: format!("{} {}", entry.method, entry.path),
                http_status: entry.status,
                hint: entry.hint.clone(),
                differences,
            })
            .collect()
    };
    Verdict {
        matched,
        holds,
        near_misses,
    }
}
