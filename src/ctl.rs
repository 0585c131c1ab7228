//! `roma-emulator ctl`: the control plane of a running emulator for a person at a terminal, spoken
//! through the typed [`crate::client::ControlClient`]. A table by default, `--json` for scripts.
//! Exit codes: 0 done, 1 the emulator refused (or did not answer), 2 a usage error.

use std::io::Write;
use std::path::PathBuf;

use crate::client::{ClientError, ControlClient, Job, JobQuery};

/// Done.
pub const EXIT_OK: u8 = 0;
/// The emulator refused, did not answer, or a file could not be read or written.
pub const EXIT_REFUSED: u8 = 1;
/// The command line is wrong (clap's own code for its errors, too).
pub const EXIT_USAGE: u8 = 2;

/// `roma-emulator ctl [--url URL] [--admin-token T] [--json] COMMAND`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The emulator's base URL.
    #[arg(
        long,
        env = "ROMA_EMULATOR_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    url: String,
    /// The stub's `[emulator] admin_token`, sent as `Authorization: Bearer`.
    #[arg(
        long,
        env = "ROMA_EMULATOR_EMULATOR_ADMIN_TOKEN",
        hide_env_values = true,
        global = true
    )]
    admin_token: Option<String>,
    /// JSON (the control plane's answer, one document) instead of a table.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Jobs, oldest first (one page).
    Jobs {
        /// Only this project's.
        #[arg(long)]
        project: Option<String>,
        /// Only this instance's.
        #[arg(long)]
        instance: Option<String>,
        /// Only jobs with this status (either spelling).
        #[arg(long)]
        status: Option<String>,
        /// Only this user's.
        #[arg(long)]
        user: Option<String>,
        /// At most this many (1..1000).
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// One job.
    Job {
        /// Its id.
        id: String,
    },
    /// Waits until a job has a status (any end when left out); exit 1 if it does not in time.
    Wait {
        /// Its id.
        id: String,
        /// The status to wait for (either spelling).
        #[arg(long)]
        status: Option<String>,
        /// How long to wait (`30s`, `2m`, `500ms`).
        #[arg(long, default_value = "30s")]
        timeout: humantime::Duration,
    },
    /// Ends a Running job successfully now.
    Complete {
        /// Its id.
        id: String,
    },
    /// Fails a Running job now.
    Fail {
        /// Its id.
        id: String,
    },
    /// The journal, newest first.
    Requests {
        /// At most this many (1..1000).
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// The fault rules.
    Faults,
    /// The emulator's time; `--advance` moves a virtual clock.
    Clock {
        /// Move the virtual clock forward (`5s`, `1h`).
        #[arg(long)]
        advance: Option<humantime::Duration>,
    },
    /// Forgets everything, or one project (and instance).
    Reset {
        /// Only this project.
        #[arg(long)]
        project: Option<String>,
        /// Only this instance (of the project, when given).
        #[arg(long)]
        instance: Option<String>,
    },
    /// Moves the whole state to or from a file.
    #[command(subcommand)]
    State(StateCommand),
}

#[derive(Debug, clap::Subcommand)]
enum StateCommand {
    /// Writes `GET /_emulator/state` to FILE.
    Export {
        /// Where to write it.
        file: PathBuf,
    },
    /// Replaces the state by FILE (`PUT /_emulator/state`).
    Import {
        /// The snapshot to load.
        file: PathBuf,
    },
}

/// Runs `args`, writing the answer to `out` and why it failed to `err`; the exit code.
pub async fn run(args: Args, out: &mut impl Write, err: &mut impl Write) -> u8 {
    let client = match ControlClient::new(&args.url, args.admin_token.clone()) {
        Ok(client) => client,
        Err(e) => {
            let _ = writeln!(err, "roma-emulator ctl: --url: {e}");
            return EXIT_USAGE;
        }
    };
    match answer(&client, args.command, args.json).await {
        Ok(text) => {
            let _ = out.write_all(text.as_bytes());
            EXIT_OK
        }
        Err(e) => {
            let _ = writeln!(err, "roma-emulator ctl: {e}");
            EXIT_REFUSED
        }
    }
}

/// Why a command did not do what it was asked.
#[derive(Debug, thiserror::Error)]
enum Failure {
    /// The emulator refused, or did not answer.
    #[error("{0}")]
    Client(#[from] ClientError),
    /// A file could not be read or written.
    #[error("{}: {error}", path.display())]
    File { path: PathBuf, error: std::io::Error },
}

/// What to print for `command`.
async fn answer(client: &ControlClient, command: Command, json: bool) -> Result<String, Failure> {
    let one = |job: Job| show(json, &job, || jobs_table(std::slice::from_ref(&job), None));
    Ok(match command {
        Command::Jobs {
            project,
            instance,
            status,
            user,
            limit,
        } => {
            let query = JobQuery {
                project_id: project,
                instance_id: instance,
                status,
                user,
                limit: Some(limit),
            };
            let page = client.jobs(&query).await?;
            show(json, &page, || jobs_table(&page.jobs, Some(page.total)))
        }
        Command::Job { id } => one(client.job(&id).await?),
        Command::Wait { id, status, timeout } => one(client.wait(&id, status.as_deref(), *timeout).await?),
        Command::Complete { id } => one(client.complete(&id).await?),
        Command::Fail { id } => one(client.fail(&id).await?),
        Command::Requests { limit } => {
            let page = client.requests(limit).await?;
            show(json, &page, || {
                let rows = page.requests.iter().map(|r| {
                    let why = r
                        .refusal
                        .as_ref()
                        .and_then(|f| f.get("rule"))
                        .and_then(|v| v.as_str());
                    vec![
                        r.time.clone(),
                        r.method.clone(),
                        r.path.clone(),
                        r.status.to_string(),
                        r.error_code.clone().unwrap_or_default(),
                        r.user.clone().unwrap_or_default(),
                        why.map(str::to_owned)
                            .or_else(|| r.hint.clone())
                            .unwrap_or_default(),
                    ]
                });
                let footer = format!("{} of {} requests", page.requests.len(), page.total);
                table(
                    &["TIME", "METHOD", "PATH", "STATUS", "CODE", "USER", "WHY"],
                    rows,
                    &footer,
                )
            })
        }
        Command::Faults => {
            let faults = client.faults().await?;
            show(json, &faults, || {
                let rows = faults.faults.iter().map(|f| {
                    let spec = serde_json::to_value(&f.spec).unwrap_or_default();
                    let mut does = spec.as_object().cloned().unwrap_or_default();
                    does.remove("operation");
                    vec![
                        f.id.to_string(),
                        f.spec.operation.to_string(),
                        f.remaining
                            .map_or_else(|| "unlimited".to_owned(), |n| n.to_string()),
                        serde_json::Value::Object(does).to_string(),
                    ]
                });
                let n = faults.faults.len();
                let footer = format!("{n} fault{}", if n == 1 { "" } else { "s" });
                table(&["ID", "OPERATION", "REMAINING", "RULE"], rows, &footer)
            })
        }
        Command::Clock { advance } => {
            let clock = match advance {
                Some(by) => client.advance(*by).await?,
                None => client.clock().await?,
            };
            show(json, &clock, || format!("{} ({} clock)\n", clock.now, clock.mode))
        }
        Command::Reset { project, instance } => {
            let done = client.reset(project.as_deref(), instance.as_deref()).await?;
            show(json, &done, || match (&project, &instance) {
                (None, None) => "reset: everything\n".to_owned(),
                _ => format!(
                    "reset: project {}, instance {}\n",
                    project.as_deref().unwrap_or("(any)"),
                    instance.as_deref().unwrap_or("(any)")
                ),
            })
        }
        Command::State(StateCommand::Export { file }) => {
            let state = client.export_state().await?;
            std::fs::write(&file, &state).map_err(|e| file_error(&file, e))?;
            let done = serde_json::json!({"file": file, "bytes": state.len()});
            show(json, &done, || {
                format!("wrote {} bytes to {}\n", state.len(), file.display())
            })
        }
        Command::State(StateCommand::Import { file }) => {
            let state = std::fs::read(&file).map_err(|e| file_error(&file, e))?;
            let done = client.import_state(state).await?;
            show(json, &done, || format!("loaded {}: {done}\n", file.display()))
        }
    })
}

fn file_error(path: &std::path::Path, error: std::io::Error) -> Failure {
    Failure::File {
        path: path.to_owned(),
        error,
    }
}

/// `value` as pretty JSON, or the table `text` makes.
fn show<T: serde::Serialize>(json: bool, value: &T, text: impl FnOnce() -> String) -> String {
    if json {
        let mut s = serde_json::to_string_pretty(value).unwrap_or_default();
        s.push('\n');
        s
    } else {
        text()
    }
}

fn jobs_table(jobs: &[Job], total: Option<usize>) -> String {
    let rows = jobs.iter().map(|j| {
        let archive = match (&j.archive_id, j.kind.as_str(), j.end_time.is_some()) {
            (Some(a), _, _) => a.clone(),
            (None, "exportAsset", true) if j.reasons.is_empty() => "(taken or expired)".to_owned(),
            _ => String::new(),
        };
        vec![
            j.id.clone(),
            j.kind.clone(),
            j.status.clone(),
            format!("{:.0}%", j.progress_percent * 100.0),
            j.user.clone(),
            j.project_id.clone(),
            j.instance_id.clone(),
            j.begin_time.clone(),
            j.end_time.clone().unwrap_or_default(),
            archive,
        ]
    });
    let footer = total.map_or_else(String::new, |t| format!("{} of {t} jobs", jobs.len()));
    let headers = [
        "ID", "TYPE", "STATUS", "PROGRESS", "USER", "PROJECT", "INSTANCE", "BEGIN", "END", "ARCHIVE",
    ];
    table(&headers, rows, &footer)
}

/// Columns padded to their widest cell, then `footer` (when not empty).
fn table(headers: &[&str], rows: impl Iterator<Item = Vec<String>>, footer: &str) -> String {
    let rows: Vec<Vec<String>> = rows.collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(headers.to_vec());
    for row in &rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    if !footer.is_empty() {
        out.push_str(footer);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_pads_each_column_to_its_widest_cell() {
        let rows = vec![
            vec!["a".to_owned(), "bbb".to_owned()],
            vec!["cc".to_owned(), String::new()],
        ];
        assert_eq!(
            table(&["X", "Y"], rows.into_iter(), "2 rows"),
            "X   Y\na   bbb\ncc\n2 rows\n"
        );
    }
}
