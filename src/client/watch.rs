//! `fluxlab watch`: a live progress bar fed by the job's Server-Sent Events
//! (`GET /v1/jobs/{id}/events`), with the latest metrics, until the job ends.

use std::time::Duration;

use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use reqwest::Method;
use serde_json::Value;

use super::http::{Api, Failure, Outcome, checked};

/// One parsed event: its name and JSON data.
#[derive(Debug, PartialEq)]
pub struct SseEvent {
    pub name: String,
    pub data: Value,
}

/// Splits complete events off the front of `buffer` (the SSE wire format: `event:` and `data:`
/// lines, a blank line ends an event, `:` lines are comments such as keep-alives).
pub fn drain_events(buffer: &mut String) -> Vec<SseEvent> {
    let mut events = Vec::new();
    while let Some(end) = buffer.find("\n\n") {
        let block: String = buffer.drain(..end + 2).collect();
        let mut name = String::from("message");
        let mut data = String::new();
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("event:") {
                name = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("data:") {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(v.strip_prefix(' ').unwrap_or(v));
            }
        }
        if !data.is_empty() {
            events.push(SseEvent {
                name,
                data: serde_json::from_str(&data).unwrap_or(Value::String(data)),
            });
        }
    }
    events
}

/// Up to five numeric metrics of a metrics row, `name=value`, `step` first.
pub fn metrics_line(row: &Value) -> String {
    let Some(obj) = row.as_object() else {
        return String::new();
    };
    let mut parts = Vec::new();
    if let Some(step) = obj.get("step") {
        parts.push(format!("step={step}"));
    }
    for (k, v) in obj {
        if k == "step" || parts.len() >= 6 {
            continue;
        }
        if let Some(x) = v.as_f64() {
            parts.push(format!("{k}={}", super::render::number(x)));
        }
    }
    parts.join(" ")
}

/// Follows job `id` until it ends; returns its final job view. The bar is drawn on stderr
/// when it is a terminal (hidden otherwise). A stream that ends early (the server restarting:
/// its last `done` says `queued`) is reopened.
pub async fn follow(api: &Api, id: &str) -> Outcome<Value> {
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {prefix:9} [{bar:30}] {percent:>3}% {elapsed_precise} {msg}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut reconnects = 0;
    let outcome = loop {
        match stream_once(api, id, &bar).await {
            Ok(Some(view)) if is_terminal(&view) => break Ok(view),
            Ok(_) | Err(Failure::Server(_)) if reconnects < 30 => {
                reconnects += 1;
                bar.set_prefix("reconnect");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Ok(_) => {
                break Err(Failure::Server(
                    "the event stream keeps ending early".into(),
                ));
            }
            Err(e) => break Err(e),
        }
    };
    bar.finish_and_clear();
    outcome
}

fn is_terminal(view: &Value) -> bool {
    matches!(
        view["status"].as_str(),
        Some("succeeded" | "failed" | "cancelled")
    )
}

/// One connection to the event stream: `Some(view)` from its `done` event, `None` when it
/// ended without one.
async fn stream_once(api: &Api, id: &str, bar: &ProgressBar) -> Outcome<Option<Value>> {
    let response = api
        .send(
            api.request(Method::GET, &format!("/v1/jobs/{id}/events"))
                .header("accept", "text/event-stream"),
        )
        .await?;
    let mut body = checked(response).await?.bytes_stream();
    let mut buffer = String::new();
    while let Some(chunk) = body.next().await {
        let Ok(chunk) = chunk else {
            return Ok(None);
        };
        buffer.push_str(&String::from_utf8_lossy(&chunk).replace("\r\n", "\n"));
        for event in drain_events(&mut buffer) {
            match event.name.as_str() {
                "snapshot" => {
                    set_progress(bar, &event.data["progress"]);
                    bar.set_prefix(event.data["status"].as_str().unwrap_or("").to_string());
                }
                "progress" => set_progress(bar, &event.data),
                "status" => bar.set_prefix(event.data["status"].as_str().unwrap_or("").to_string()),
                "metrics" => bar.set_message(metrics_line(&event.data)),
                "done" => return Ok(Some(event.data)),
                _ => {}
            }
        }
    }
    Ok(None)
}

fn set_progress(bar: &ProgressBar, progress: &Value) {
    let total = progress["total_steps"].as_u64().unwrap_or(0);
    if total > 0 {
        bar.set_length(total);
        bar.set_position(progress["step"].as_u64().unwrap_or(0).min(total));
    } else {
        // No step count yet: show the fraction out of 1000.
        bar.set_length(1000);
        bar.set_position((progress["fraction"].as_f64().unwrap_or(0.0) * 1000.0) as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_are_split_at_blank_lines_and_comments_skipped() {
        let mut buffer = String::from(
            ":keep-alive\n\nevent: progress\ndata: {\"step\":2}\n\nevent: done\ndata: {\"status\"",
        );
        let events = drain_events(&mut buffer);
        assert_eq!(
            events,
            vec![SseEvent {
                name: "progress".into(),
                data: json!({"step": 2})
            }]
        );
        assert_eq!(
            buffer, "event: done\ndata: {\"status\"",
            "the partial event waits"
        );
        buffer.push_str(":\"failed\"}\n\n");
        assert_eq!(drain_events(&mut buffer)[0].data["status"], "failed");
    }

    #[test]
    fn metrics_lines_show_step_and_numbers() {
        let line = metrics_line(&json!({"step": 3, "loss": 0.25, "name": "x"}));
        assert_eq!(line, "step=3 loss=0.2500");
    }
}
