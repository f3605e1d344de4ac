//! `GET /v1/jobs/{id}/plots` (which plots a job offers) and `GET /v1/jobs/{id}/plots/{name}.svg`
//! (one plot as SVG, PNG or PDF: `.png`/`.pdf` or `?format=`; size, log axes and axis bounds
//! from the query). Reading happens here; what to draw is decided in `crate::plots`.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::AppState;
use super::error::{ApiError, ApiResult, Problem, parse_query};
use super::jobs::load;
use crate::jobs::{FieldError, JobKind};
use crate::plots::export::{self, Format};
use crate::plots::{self, JobData, Size, View};
use crate::store::{JobRow, Status};

/// One entry of the plot listing.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PlotEntry {
    pub name: String,
    pub title: String,
    /// Path of the SVG (relative to the server).
    pub url: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PlotList {
    pub plots: Vec<PlotEntry>,
}

/// The query of a plot, as text, so a bad value gets a 422 naming the parameter and its bounds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlotQuery {
    width: Option<String>,
    height: Option<String>,
    format: Option<String>,
    scale: Option<String>,
    log_x: Option<String>,
    log_y: Option<String>,
    x_min: Option<String>,
    x_max: Option<String>,
    y_min: Option<String>,
    y_max: Option<String>,
    network: Option<String>,
}

/// Everything the query asks of one plot.
struct PlotRequest {
    size: Size,
    format: Format,
    scale: f32,
    view: View,
    /// `?network=`: which network the per-network plots draw (checked against the job's
    /// networks once they are read); `None` when not asked for.
    network: Option<usize>,
    /// What of the view was dropped, and why (for the `Fluxlab-View-Ignored` header).
    ignored: Vec<String>,
}

/// Response header naming view parameters that were dropped (and why).
const VIEW_IGNORED: &str = "fluxlab-view-ignored";

/// Default PNG scale: 2 device pixels per SVG pixel (sharp on screens and in print).
const DEFAULT_SCALE: f32 = 2.0;
/// Largest `?network=` index: one below the most networks a job may have, checked for every
/// plot (the schema's maximum) before the job's own count is known.
const MAX_NETWORK_INDEX: usize = 9_999;

/// Largest magnitude of an axis bound.
const MAX_BOUND: f64 = 1e12;

fn flag(field: &str, value: Option<String>, errors: &mut Vec<FieldError>) -> bool {
    match value.as_deref().map(str::trim) {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") | Some("") => true,
        Some(other) => {
            errors.push(FieldError::new(
                field,
                format!("must be true or false, got `{other}`"),
            ));
            false
        }
    }
}

fn bound(field: &str, value: Option<String>, errors: &mut Vec<FieldError>) -> Option<f64> {
    let text = value?;
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v.abs() <= MAX_BOUND => Some(v),
        _ => {
            errors.push(FieldError::new(
                field,
                format!(
                    "must be a finite number of at most {MAX_BOUND:e} in magnitude, got `{text}`"
                ),
            ));
            None
        }
    }
}

/// Reads the query; `by_name` is the format the file name asks for (`.png`), which a
/// different `?format=` contradicts.
fn plot_request(raw: Option<&str>, by_name: Format) -> ApiResult<PlotRequest> {
    let q: PlotQuery = parse_query(raw)?;
    let mut errors = Vec::new();
    let side =
        |field: &str, value: Option<String>, default: u32, errors: &mut Vec<FieldError>| -> u32 {
            let Some(text) = value else { return default };
            match text.trim().parse::<u32>() {
                Ok(v) if (Size::MIN..=Size::MAX).contains(&v) => v,
                _ => {
                    errors.push(FieldError::new(
                        field,
                        format!(
                            "must be a whole number of pixels from {} to {}, got `{text}`",
                            Size::MIN,
                            Size::MAX
                        ),
                    ));
                    default
                }
            }
        };
    let size = Size {
        width: side("width", q.width, Size::DEFAULT.width, &mut errors),
        height: side("height", q.height, Size::DEFAULT.height, &mut errors),
    };
    let format = match q.format.as_deref() {
        None => by_name,
        Some(name) => match Format::parse(name.trim()) {
            Some(f) if by_name == Format::Svg || f == by_name => f,
            Some(f) => {
                errors.push(FieldError::new(
                    "format",
                    format!(
                        "`{}` contradicts the file name's `.{}`",
                        f.extension(),
                        by_name.extension()
                    ),
                ));
                by_name
            }
            None => {
                errors.push(FieldError::new(
                    "format",
                    format!("must be svg, png or pdf, got `{name}`"),
                ));
                by_name
            }
        },
    };
    let scale = match q.scale {
        None => DEFAULT_SCALE,
        Some(text) => match text.trim().parse::<f32>() {
            Ok(v) if (1.0..=export::MAX_SCALE).contains(&v) => v,
            _ => {
                errors.push(FieldError::new(
                    "scale",
                    format!(
                        "must be a number from 1 to {} (device pixels per pixel of the PNG), got `{text}`",
                        export::MAX_SCALE
                    ),
                ));
                DEFAULT_SCALE
            }
        },
    };
    let view = View {
        log_x: flag("log_x", q.log_x, &mut errors),
        log_y: flag("log_y", q.log_y, &mut errors),
        x_min: bound("x_min", q.x_min, &mut errors),
        x_max: bound("x_max", q.x_max, &mut errors),
        y_min: bound("y_min", q.y_min, &mut errors),
        y_max: bound("y_max", q.y_max, &mut errors),
    };
    let network = q.network.and_then(|text| match text.trim().parse::<usize>() {
        Ok(v) if v <= MAX_NETWORK_INDEX => Some(v),
        Ok(v) => {
            errors.push(FieldError::new(
                "network",
                format!("must be at most {MAX_NETWORK_INDEX} (a job has at most {} networks), got {v}", MAX_NETWORK_INDEX + 1),
            ));
            None
        }
        Err(_) => {
            errors.push(FieldError::new(
                "network",
                format!("must be a whole number from 0 (the index of a network in the result's `networks`), got `{text}`"),
            ));
            None
        }
    });
    // Combinations no single parameter's schema can rule out are not errors (a client
    // generated from the OpenAPI document would send them): the offending bounds are
    // dropped and the response says so in `Fluxlab-View-Ignored`.
    let mut ignored = Vec::new();
    let mut view = view;
    for (axis, log) in [("x", view.log_x), ("y", view.log_y)] {
        let (lo, hi) = if axis == "x" {
            (&mut view.x_min, &mut view.x_max)
        } else {
            (&mut view.y_min, &mut view.y_max)
        };
        for (end, bound) in [("min", &mut *lo), ("max", &mut *hi)] {
            if log && bound.is_some_and(|v| v <= 0.0) {
                *bound = None;
                ignored.push(format!("{axis}_{end} (not above 0 on a log axis)"));
            }
        }
        if let (Some(l), Some(h)) = (*lo, *hi)
            && l >= h
        {
            *lo = None;
            *hi = None;
            ignored.push(format!("{axis}_min and {axis}_max ({l} is not below {h})"));
        }
    }
    if errors.is_empty() {
        Ok(PlotRequest {
            size,
            format,
            scale,
            view,
            network,
            ignored,
        })
    } else {
        Err(ApiError::validation(errors))
    }
}

fn kind_and_spec(row: &JobRow) -> ApiResult<(JobKind, Value)> {
    let kind = JobKind::parse(&row.kind)
        .ok_or_else(|| ApiError::internal(format!("stored kind {}", row.kind)))?;
    let spec = serde_json::from_str(&row.spec).map_err(ApiError::internal)?;
    Ok((kind, spec))
}

/// The plots this job offers (depends on its kind, and for evolutions on the mode).
#[utoipa::path(get, path = "/v1/jobs/{id}/plots", tag = "plots",
    responses((status = 200, body = PlotList), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: super::auth::Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<PlotList>> {
    let row = load(&state, &who, &id).await?;
    let (kind, spec) = kind_and_spec(&row)?;
    Ok(Json(PlotList {
        plots: plots::catalogue(kind, &spec)
            .into_iter()
            .map(|p| PlotEntry {
                name: p.name.into(),
                title: p.title.into(),
                url: format!("/v1/jobs/{id}/plots/{}.svg", p.name),
            })
            .collect(),
    }))
}

/// One plot as SVG, PNG or PDF: the result of a succeeded job, else what its metric rows and
/// latest checkpoint hold so far (a titled "no data yet" figure when there is nothing).
#[utoipa::path(get, path = "/v1/jobs/{id}/plots/{name}.svg", tag = "plots",
    params(("width" = Option<u32>, Query, minimum = 200, maximum = 2000, description = "pixels, 200 to 2000 (default 600)"),
           ("height" = Option<u32>, Query, minimum = 200, maximum = 2000, description = "pixels, 200 to 2000 (default 400)"),
           ("format" = Option<super::openapi::PlotFormat>, Query, description = "`svg` (default), `png` or `pdf`; the same plot is also served as `{name}.png` and `{name}.pdf`. PNG and PDF are rendered on the server with an embedded font (DejaVu Sans), identical on every machine"),
           ("scale" = Option<f32>, Query, minimum = 1, maximum = 4, description = "PNG only: device pixels per pixel, 1 to 4 (default 2)"),
           ("log_x" = Option<bool>, Query, description = "log10 x axis (line and scatter plots); values ≤ 0 are left out"),
           ("log_y" = Option<bool>, Query, description = "log10 y axis (line and scatter plots); values ≤ 0 are left out"),
           ("x_min" = Option<f64>, Query, minimum = -1e12, maximum = 1e12, description = "fixed lower x bound in data units (line and scatter plots); data outside is clipped"),
           ("x_max" = Option<f64>, Query, minimum = -1e12, maximum = 1e12, description = "fixed upper x bound. Bounds that cannot apply (min not below max, ≤ 0 on a log axis, or any view option on a heat map, histogram or raster) are dropped and named in the `Fluxlab-View-Ignored` response header"),
           ("y_min" = Option<f64>, Query, minimum = -1e12, maximum = 1e12, description = "fixed lower y bound in data units (line and scatter plots)"),
           ("y_max" = Option<f64>, Query, minimum = -1e12, maximum = 1e12, description = "fixed upper y bound (see `x_max` for bounds that cannot apply)"),
           ("network" = Option<u32>, Query, minimum = 0, maximum = 9999, description = "`mi` heat maps (`weights`, `correlation`): which network to draw, a 0-based index into the result's `networks` (default 0; while the job runs, into the networks finished so far). An index not below the number of networks is a 422 naming the valid range; other plots ignore it and name it in `Fluxlab-View-Ignored`")),
    responses((status = 200, description = "the plot", content((String = "image/svg+xml"), (Vec<u8> = "image/png"), (Vec<u8> = "application/pdf"))),
              (status = 404, description = "unknown job, or no such plot for the job's kind (lists the valid names)", body = Problem),
              (status = 422, description = "a parameter out of bounds or of the wrong type", body = Problem)))]
pub async fn svg(
    State(state): State<AppState>,
    who: super::auth::Principal,
    Path((id, file)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let row = load(&state, &who, &id).await?;
    let (kind, spec) = kind_and_spec(&row)?;
    let catalogue = plots::catalogue(kind, &spec);
    let (name, by_name) = Format::ALL
        .into_iter()
        .find_map(|f| {
            file.strip_suffix(&format!(".{}", f.extension()))
                .map(|n| (n, f))
        })
        .unwrap_or(("", Format::Svg));
    if !catalogue.iter().any(|p| p.name == name) {
        let valid: Vec<String> = catalogue
            .iter()
            .map(|p| format!("{}.svg", p.name))
            .collect();
        return Err(ApiError::not_found(format!(
            "no plot `{file}` for this `{}` job; available: {} (also as .png and .pdf)",
            kind.as_str(),
            valid.join(", ")
        )));
    }
    let PlotRequest {
        size,
        format,
        scale,
        mut view,
        network,
        mut ignored,
    } = plot_request(query.as_deref(), by_name)?;
    let result: Option<Value> = match (row.status(), row.result.as_deref()) {
        (Status::Succeeded, Some(r)) => Some(serde_json::from_str(r).map_err(ApiError::internal)?),
        _ => None,
    };
    let metrics = state.store.metrics_series(&id).await?;
    let checkpoint = match result {
        Some(_) => None,
        None => state.store.latest_checkpoint(&id).await?.map(|c| c.data),
    };
    let mut data = JobData {
        kind,
        spec: &spec,
        status: &row.status,
        result: result.as_ref(),
        metrics: &metrics,
        checkpoint: checkpoint.as_ref(),
        network: 0,
    };
    if let Some(k) = network {
        if plots::uses_network(kind, name) {
            let count = plots::network_count(&data);
            // Network 0 of a job with none finished yet is the usual "no data yet" plot.
            if k > 0 && k >= count {
                let range = match count {
                    0 => "this job has no finished network yet".to_string(),
                    1 => "this job has 1 network: 0".to_string(),
                    n => format!("this job has {n} networks: 0 to {}", n - 1),
                };
                return Err(ApiError::validation(vec![FieldError::new(
                    "network",
                    format!("must be below the number of networks; {range}, got {k}"),
                )]));
            }
            data.network = k;
        } else {
            ignored.push(format!(
                "network (plot `{name}` does not draw a single network; it applies to the `mi` \
                 heat maps weights and correlation)"
            ));
        }
    }
    let figure = plots::figure(&data, name)
        .ok_or_else(|| ApiError::internal(format!("plot {name} listed but not built")))?;
    if !view.is_default() && !plots::takes_view(&figure) {
        ignored.push(format!(
            "log axes and bounds (plot `{name}` has no two numeric axes; they apply to line \
             and scatter plots)"
        ));
        view = View::default();
    }
    let svg = plots::render_with(&figure, size, &view).map_err(ApiError::internal)?;
    let body = match format {
        Format::Svg => svg.into_bytes(),
        // Rasterising a large plot takes tens of milliseconds: off the async threads.
        Format::Png => tokio::task::spawn_blocking(move || export::png(&svg, scale))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?,
        Format::Pdf => tokio::task::spawn_blocking(move || export::pdf(&svg))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?,
    };
    let disposition = format!("inline; filename=\"{id}-{name}.{}\"", format.extension());
    let mut response = (
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            // A running job's plot changes with every generation.
            (header::CACHE_CONTROL, "no-cache".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response();
    if !ignored.is_empty()
        && let Ok(value) = header::HeaderValue::from_str(&ignored.join("; "))
    {
        response.headers_mut().insert(VIEW_IGNORED, value);
    }
    Ok(response)
}
