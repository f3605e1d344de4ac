//! Post-processing of the generated OpenAPI document, so that it describes what the server
//! really does (issue 14):
//!
//! - every error answer is `application/problem+json` with the [`Problem`] schema, and every
//!   operation lists the errors any request to it can get (a guard refused it, the body broke
//!   a limit, the database is unavailable or full), not only the ones its handler raises;
//! - `POST /v1/jobs` takes a `oneOf` by `kind`, each with its kind's spec schema (`MiSpec`,
//!   `EvolutionSpec`, `LifJobSpec`) carrying the server's bounds, enumerations, required fields,
//!   `additionalProperties: false` where unknown fields are refused, and the "exactly one of"
//!   choices (an `mi` network, a `lif` dataset) as `oneOf`s of disjoint branches;
//! - the multipart form of `POST /v1/datasets`.
//!
//! The spec schemas are written here from the very constants the validation uses, rather than
//! derived from the spec structs: a derive cannot say "exactly one of", nor bounds that live in
//! [`Limits`], nor anything about the engine's types (the engine stays free of utoipa). The
//! tests below check every normalised spec the server stores against these schemas, so a field
//! added to a spec without its schema fails them.
//!
//! What JSON Schema cannot say is in the descriptions: a square weight matrix, lengths that
//! must equal N, bounds that depend on another field, references to other resources (a
//! dataset id, `init.from_job`), and the server's total-work limit (`--max-job-work`). A spec
//! that passes the schema can therefore still be refused with a 422 naming the field.

use serde_json::{Map, Value, json};
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::request_body::RequestBody;
use utoipa::openapi::schema::{Schema, SchemaFormat};
use utoipa::openapi::{Components, Content, OpenApi, Ref, RefOr, Required, Response};
use utoipa::{Modify, ToSchema};

use super::guard::MAX_URI_BYTES;
use super::jobs::{MAX_ATTEMPTS_LIMIT, MAX_NAME_CHARS, PRIORITY_RANGE};
use super::labels::{MAX_NOTES_CHARS, MAX_TAG_CHARS, MAX_TAGS};
use crate::engine::evolve::{
    CORRELATION_MAX_N, MAX_CORRELATION_WORK, MAX_OFFSPRING, MAX_PARENTS, MEAN_PERIOD_MAX_N,
};
use crate::engine::flux::exact::{EXACT_MAX_N, EXACT_SHARED_NOISE_MAX_N};
use crate::engine::flux::sampled::MAX_TOTAL_STEPS;
use crate::engine::lif::config::{
    MAX_BATCH, MAX_CLASSES, MAX_EPOCHS, MAX_LAYERS, MAX_PARAMS, MAX_STEPS, MAX_UNIT_STEPS,
    MAX_UNITS,
};
use crate::engine::lif::synthetic::MAX_SYNTHETIC_SAMPLES;
use crate::jobs::Limits;
use crate::jobs::evolution::{MAX_GENERATIONS, MAX_N as EVOLUTION_MAX_N};
use crate::jobs::lif::model::MAX_PREDICT_INPUTS;
use crate::jobs::lif::spec::MNIST10K;
use crate::jobs::mi::validate::{
    GAUSSIAN_SWEEP_PARAMS, MAX_ATTRACTOR_STARTS, MAX_ATTRACTOR_WALK, MAX_NOISE_STD,
    MAX_SWEEP_VALUES, NROOKS_SWEEP_PARAMS,
};

/// A job's status, as the `status` filter of `GET /v1/jobs` takes it (documentation only: the
/// server reads it as text, see [`crate::store::Status`]).
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// What `GET /v1/jobs?include=` can add to each summary (documentation only).
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum ListInclude {
    Spec,
}

/// The columns `GET /v1/jobs?sort=` sorts on (documentation only; `store::SortKey`).
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum ListSort {
    Created,
    Name,
    Kind,
    Status,
    RunTime,
    MiBits,
    Correlation,
    N,
    Networks,
    RookScore,
    Generations,
    TestAccuracy,
    Epochs,
}

/// `GET /v1/jobs?order=` (documentation only).
/// The formats a plot is served in (`?format=` of `GET /v1/jobs/{id}/plots/{name}.svg`).
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum PlotFormat {
    Svg,
    Png,
    Pdf,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum ListOrder {
    Asc,
    Desc,
}

/// The largest dataset name (characters, after trimming).
const MAX_DATASET_NAME: usize = 200;

/// The document's rewrites and additions; attached to [`super::ApiDoc`].
pub struct Contract;

impl Modify for Contract {
    fn modify(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Components::new);
        let limits = Limits::default();
        for (name, schema) in [
            ("MiSpec", mi_spec(&limits)),
            ("EvolutionSpec", evolution_spec()),
            ("LifJobSpec", lif_spec()),
            ("DatasetUpload", dataset_upload()),
            ("LabelsPatch", labels_patch()),
        ] {
            components.schemas.insert(name.into(), schema_of(schema));
        }
        for (name, schema) in submit_requests() {
            components.schemas.insert(name, schema_of(schema));
        }
        unique_operation_ids(doc);
        for (path, item) in doc.paths.paths.iter_mut() {
            for (method, operation) in operations(item) {
                if path == "/v1/datasets" && method == "post" {
                    document_upload_form(operation);
                }
                if path == "/v1/jobs" && method == "get" {
                    // utoipa knows the `uuid` format only with its `uuid` feature.
                    set_format(operation, "cursor", "uuid");
                }
                add_common_errors(path, method, operation);
                problem_documents(operation);
            }
        }
    }
}

/// Parses a schema written as JSON into utoipa's model. The schemas here are fixed, so a
/// failure is a programming error (and the unit tests build the whole document).
fn schema_of(value: Value) -> RefOr<Schema> {
    serde_json::from_value(value).expect("a hand-written schema utoipa can represent")
}

/// `schema_with` for [`super::models::PredictRequest`]'s `inputs`.
pub fn predict_inputs() -> RefOr<Schema> {
    schema_of(described(
        array(array(num(0.0, 1.0), 1, usize::MAX), 1, MAX_PREDICT_INPUTS),
        &format!(
            "1 to {MAX_PREDICT_INPUTS} samples, each as many values in [0, 1] as the model's \
             dataset has per sample (784 for `mnist10k`; channels × steps for a synthetic task)"
        ),
    ))
}

fn operations(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
    .collect()
}

/// utoipa names an operation after its handler, and several modules have a `list`, `get`,
/// `delete` or `metrics`. OpenAPI requires unique ids (clients name their methods after them,
/// and links name their targets by them): a name used more than once gets its tag as prefix,
/// e.g. `jobs_list` and `datasets_list`.
fn unique_operation_ids(doc: &mut OpenApi) {
    let mut uses = std::collections::HashMap::<String, usize>::new();
    for item in doc.paths.paths.values_mut() {
        for (_, op) in operations(item) {
            if let Some(id) = &op.operation_id {
                *uses.entry(id.clone()).or_default() += 1;
            }
        }
    }
    for item in doc.paths.paths.values_mut() {
        for (_, op) in operations(item) {
            let tag = op.tags.iter().flatten().next().cloned();
            if let (Some(id), Some(tag)) = (&mut op.operation_id, tag)
                && uses.get(id.as_str()).is_some_and(|&n| n > 1)
            {
                *id = format!("{tag}_{id}");
            }
        }
    }
}

/// Operations that answer without touching the database.
const STORE_FREE: [&str; 3] = ["/healthz", "/readyz", "/openapi.json"];
/// Routes outside `/v1/` that the server can be told to protect with a token.
const PROTECTABLE: [&str; 2] = ["/metrics", "/openapi.json"];
/// POSTs that only read.
const READ_ONLY_POSTS: [&str; 1] = ["/v1/models/{id}/predict"];

/// Adds the errors that any request to the operation can get, where the handler's own list
/// lacks them: the guards (414, 421, 403 for state-changing methods), path decoding (400),
/// body limits and types (400, 413, 415), the connection cap and the database (500, 503, 507).
fn add_common_errors(path: &str, method: &str, op: &mut Operation) {
    let body_types: Vec<String> = match &op.request_body {
        Some(RefOr::T(body)) => body.content.keys().cloned().collect(),
        _ => Vec::new(),
    };
    let json_body = body_types.iter().any(|t| t == "application/json");
    let form_body = body_types.iter().any(|t| t.starts_with("multipart/"));
    let has_path_params = path.contains('{');
    let has_query_params = op
        .parameters
        .iter()
        .flatten()
        .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query));
    let writes = matches!(method, "post" | "delete") && !READ_ONLY_POSTS.contains(&path);
    let uses_store = !STORE_FREE.contains(&path);
    let mut add = |status: u16, description: String| {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(Response::new(description)));
    };
    if json_body {
        add(
            400,
            "malformed request: the body is not valid JSON, or a path segment is not valid \
             percent-encoded UTF-8"
                .into(),
        );
        add(
            415,
            "the body was not sent with `Content-Type: application/json`".into(),
        );
        add(
            422,
            "invalid request: `errors` names each field and the bound it broke".into(),
        );
    }
    if form_body {
        add(
            400,
            "malformed request: not a multipart/form-data body, or one that breaks off".into(),
        );
        add(
            422,
            "invalid form: `errors` names each field and the problem".into(),
        );
    }
    if json_body || form_body {
        add(
            413,
            "the body is larger than this server accepts (`--max-body-bytes`; uploads \
             `--max-upload-bytes`)"
                .into(),
        );
    }
    if has_path_params {
        add(
            400,
            "malformed request: a path segment is not valid percent-encoded UTF-8".into(),
        );
    }
    if has_query_params {
        add(
            422,
            "invalid query: `errors` names the parameter (out of bounds, of the wrong type, or \
             unknown)"
                .into(),
        );
    }
    if path.starts_with("/v1/") || PROTECTABLE.contains(&path) {
        let when = if path.starts_with("/v1/") {
            ""
        } else {
            " (only when the server is started with `--protect-metrics` / `--protect-openapi`)"
        };
        add(
            401,
            format!(
                "no valid `Authorization: Bearer <token>`{when}; a server without users that \
                 listens on loopback only runs open"
            ),
        );
        add(
            429,
            "too many requests with this token, or a quota reached; retry after `Retry-After` \
             seconds"
                .into(),
        );
    }
    if matches!(method, "post" | "put" | "patch" | "delete") {
        add(
            403,
            "a cross-site request (an `Origin` other than the host addressed, or \
             `Sec-Fetch-Site: cross-site`) may not change anything"
                .into(),
        );
    }
    add(
        414,
        format!("the request target (path and query) is longer than {MAX_URI_BYTES} bytes"),
    );
    add(
        421,
        "the `Host` header names a host this server does not answer to (see `--allowed-hosts`)"
            .into(),
    );
    if uses_store {
        add(
            500,
            "a server fault (logged; the answer holds no internals)".into(),
        );
        add(
            503,
            "the database cannot be reached right now, or too many connections are open; \
             retry after `Retry-After` seconds"
                .into(),
        );
    } else {
        add(503, "too many connections are open; retry shortly".into());
    }
    if uses_store && writes {
        add(
            507,
            "the database has no space left (disk full or `--max-database-bytes` reached); \
             nothing was stored"
                .into(),
        );
    }
}

fn set_format(op: &mut Operation, parameter: &str, format: &str) {
    let schema = op.parameters.iter_mut().flatten().find_map(|p| match p {
        RefOr::T(p) if p.name == parameter => p.schema.as_mut(),
        _ => None,
    });
    if let Some(RefOr::T(Schema::Object(object))) = schema {
        object.format = Some(SchemaFormat::Custom(format.into()));
    }
}

/// Every answer with status ≥ 400 is a problem document.
fn problem_documents(op: &mut Operation) {
    for (status, response) in op.responses.responses.iter_mut() {
        let error = status.parse::<u16>().is_ok_and(|s| s >= 400);
        if let (true, RefOr::T(response)) = (error, response) {
            response.content.clear();
            response.content.insert(
                "application/problem+json".into(),
                RefOr::T(Content::new(Some(Ref::from_schema_name("Problem")))),
            );
        }
    }
}

/// The form of `POST /v1/datasets` (the handler reads it as a stream, so no type derives it).
fn document_upload_form(op: &mut Operation) {
    let description = match &op.request_body {
        Some(RefOr::T(body)) => body.description.clone(),
        _ => None,
    };
    let mut body = RequestBody::new();
    body.description = description;
    body.required = Some(Required::True);
    body.content.insert(
        "multipart/form-data".into(),
        RefOr::T(Content::new(Some(Ref::from_schema_name("DatasetUpload")))),
    );
    op.request_body = Some(RefOr::T(body));
}

fn dataset_upload() -> Value {
    let file = |what: &str| {
        json!({
            "type": "string",
            "format": "binary",
            "contentMediaType": "application/octet-stream",
            "description": format!(
                "the {what} as an IDX file, raw or gzip-compressed; at most `--max-upload-bytes`"
            ),
        })
    };
    described(
        object(
            json!({
                "name": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_DATASET_NAME,
                    "description": "1 to 200 characters after trimming spaces",
                },
                "images": file("images (IDX type 0x08, [count, rows, columns] or [count, features])"),
                "labels": file("labels (IDX type 0x08, [count])"),
                "classes": described(
                    int(1, MAX_CLASSES as i64),
                    "the class count (every label must be below it); default: the largest label + 1",
                ),
            }),
            &["name", "images", "labels"],
        ),
        "Each field at most once. The files are checked whole (IDX headers, matching counts, \
         labels, at most 256 MiB of pixels after decompression) before anything is stored; a \
         pair that fails is a 422 naming the field.",
    )
}

const TAGS_DESCRIPTION: &str = "labels for filtering (`GET /v1/jobs?tag=`): at most 16 distinct \
     tags of 1 to 64 characters (ASCII letters, digits and `._-:/=+`)";

/// The schema of a job's `tags`: the bounds `labels::check_tags` enforces.
fn tags_schema() -> Value {
    json!({
        "type": "array",
        "maxItems": MAX_TAGS,
        "uniqueItems": true,
        "items": {"type": "string", "minLength": 1, "maxLength": MAX_TAG_CHARS,
                  "pattern": "^[A-Za-z0-9._:/=+-]+$"},
    })
}

/// `PATCH /v1/jobs/{id}` body: the bounds `labels::patch` enforces (at least one field).
fn labels_patch() -> Value {
    let mut schema = described(
        object(
            json!({
                "tags": described(tags_schema(), &format!("the job's new tags, replacing all of them (`[]` removes them); {TAGS_DESCRIPTION}")),
                "notes": described(
                    nullable(json!({"type": "string", "maxLength": MAX_NOTES_CHARS})),
                    "the job's new notes (at most 10,000 characters); `null` removes them",
                ),
            }),
            &[],
        ),
        "What is given is replaced, what is absent is kept; give `tags`, `notes` or both.",
    );
    schema["minProperties"] = json!(1);
    schema
}

/// `SubmitRequest` (a `oneOf` by `kind`) and one request schema per kind.
fn submit_requests() -> Vec<(String, Value)> {
    let kinds = [
        ("mi", "MiSubmitRequest", "MiSpec"),
        ("evolution", "EvolutionSubmitRequest", "EvolutionSpec"),
        ("lif", "LifSubmitRequest", "LifJobSpec"),
    ];
    let reference = |name: &str| format!("#/components/schemas/{name}");
    let mut out: Vec<(String, Value)> = kinds
        .iter()
        .map(|(kind, name, spec)| {
            let request = described(
                object(
                    json!({
                        "kind": tag(kind),
                        "spec": {"$ref": reference(spec)},
                        "name": described(
                            nullable(json!({"type": "string", "maxLength": MAX_NAME_CHARS})),
                            "a label for people (at most 200 characters)",
                        ),
                        "priority": described(
                            nullable(int(-PRIORITY_RANGE, PRIORITY_RANGE)),
                            "higher runs first (default 0)",
                        ),
                        "max_attempts": described(
                            nullable(int(1, MAX_ATTEMPTS_LIMIT)),
                            "runs before the job fails for good (default 3)",
                        ),
                        "tags": described(nullable(tags_schema()), TAGS_DESCRIPTION),
                        "notes": described(
                            nullable(json!({"type": "string", "maxLength": MAX_NOTES_CHARS})),
                            "free text for people (at most 10,000 characters)",
                        ),
                    }),
                    &["kind", "spec"],
                ),
                &format!("`POST /v1/jobs` body for kind `{kind}`."),
            );
            (name.to_string(), request)
        })
        .collect();
    let mapping: Map<String, Value> = kinds
        .iter()
        .map(|(kind, name, _)| (kind.to_string(), Value::String(reference(name))))
        .collect();
    out.push((
        "SubmitRequest".into(),
        json!({
            "description": "`POST /v1/jobs` body: the job's `kind` selects its spec schema. \
                Integers are written without a fraction (`2`, not `2.0`).",
            "oneOf": kinds.iter().map(|(_, name, _)| json!({"$ref": reference(name)})).collect::<Vec<_>>(),
            "discriminator": {"propertyName": "kind", "mapping": mapping},
        }),
    ));
    out
}

// ---- kind `mi` -------------------------------------------------------------------------------

fn mi_spec(l: &Limits) -> Value {
    let attractor_settings = object(
        json!({
            "enabled": boolean(true),
            "starts": described(
                with_default(int(1, MAX_ATTRACTOR_STARTS), 1000),
                "random starting states when N is beyond the exhaustive limit",
            ),
            "max_steps": described(
                with_default(int(1, MAX_ATTRACTOR_WALK), 10_000),
                "longest walk per start before it is reported unresolved",
            ),
        }),
        &[],
    );
    let sampling_bound = |what: &str, min: i64, max: usize| {
        described(
            int(i64::MIN, i64::MAX),
            &format!(
                "{what}; with the sampled method it must lie in [{min}, {max}] (with the exact \
                 method it is not used)"
            ),
        )
    };
    described(
        object(
            json!({
                "network": mi_network(l),
                "method": described(
                    string_enum(&["auto", "exact", "sampled"], "auto"),
                    &format!(
                        "`exact` supports N ≤ {} (N ≤ {EXACT_SHARED_NOISE_MAX_N} with shared \
                         noise); `auto` is exact up to there and sampled beyond",
                        l.exact_max_n
                    ),
                ),
                "sampling": described(
                    object(
                        json!({
                            "steps": with_default(sampling_bound("recorded steps per run", 1, l.max_steps), 100_000),
                            "burn_in": with_default(sampling_bound("steps discarded first", 0, l.max_steps), 1_000),
                            "runs": with_default(sampling_bound("independent runs per network", 1, l.max_runs), 4),
                        }),
                        &[],
                    ),
                    &format!(
                        "Simulation settings of sampled estimates: steps × runs ≤ \
                         {MAX_TOTAL_STEPS} and N² × (steps + burn_in) × runs ≤ {:e} per network",
                        l.max_sampling_work
                    ),
                ),
                "correlation": object(
                    json!({
                        "lag": with_default(int(0, 1), 1),
                        "include_diagonal": boolean(true),
                    }),
                    &[],
                ),
                "attractors": described(
                    json!({"oneOf": [{"type": "boolean"}, attractor_settings], "default": true}),
                    "`true` / `false`, or the settings of the sampled search used beyond the \
                     exhaustive limit (N ≤ 24 is enumerated)",
                ),
                "seed": seed(),
            }),
            &["network"],
        ),
        &format!(
            "Spec of kind `mi`. Not expressible here and checked by the server (a 422 names \
             the field): the weight matrix is square; `bias` and an explicit `permutation` or \
             `signs` have one entry per neuron; `method: exact` and the sampling bounds depend \
             on N; a sweep's networks (values × replicates) number at most {}; the attractor \
             search has its own bounds beyond N = 24; and the whole job's estimated work must \
             stay under the server's `--max-job-work`.",
            l.max_networks
        ),
    )
}

/// Exactly one of `weights`, `ensemble` or `nrooks`: three branches, each requiring its own
/// source and allowing the others only as `null` (which the server reads as absent).
fn mi_network(l: &Limits) -> Value {
    let w = l.max_abs_weight;
    let max_n = l.sampled_max_n;
    let absent = json!({"type": "null"});
    let shared = json!({
        "bias": described(
            nullable(array(num(-w, w), 1, max_n)),
            "bias per neuron, one entry per neuron (default 0)",
        ),
        "input": described(
            string_enum(&["symmetric", "binary"], "symmetric"),
            "`symmetric`: y = 2x − 1; `binary`: y = x",
        ),
        "noise": described(
            object(
                json!({
                    "std": with_default(num(0.0, MAX_NOISE_STD), 0),
                    "shared": boolean(false),
                }),
                &[],
            ),
            "Gaussian input noise; `shared: true` draws one value per step for all neurons",
        ),
    });
    let count = |max: usize| int(1, max as i64);
    let weights = described(
        object(
            merged(
                &shared,
                json!({
                    "weights": described(
                        array(array(num(-w, w), 1, max_n), 1, max_n),
                        &format!(
                            "explicit square matrix (N ≤ {max_n} rows of N entries), row = \
                             target: `weights[i][j]` is the connection j → i"
                        ),
                    ),
                    "ensemble": absent,
                    "nrooks": absent,
                    "sweep": described(absent.clone(), "sweeps need `ensemble` or `nrooks`"),
                }),
            ),
            &["weights"],
        ),
        "An explicit weight matrix.",
    );
    let ensemble = described(
        object(
            merged(
                &shared,
                json!({
                    "ensemble": described(
                        object(
                            json!({
                                "type": string_enum(&["gaussian"], "gaussian"),
                                "n": count(max_n),
                                "std": with_default(num(0.0, w), 1),
                                "mean": with_default(num(-w, w), 0),
                                "density": with_default(
                                    json!({"type": "number", "exclusiveMinimum": 0, "maximum": 1}),
                                    1,
                                ),
                                "balance": described(
                                    nullable(num(-1.0, 1.0)),
                                    "excitatory fraction (1 + balance) / 2 with magnitudes \
                                     |N(0, std²)|; absent: N(mean, std²)",
                                ),
                                "self_connections": boolean(true),
                                "scale_by_sqrt_n": boolean(false),
                                "replicates": with_default(count(l.max_networks), 1),
                            }),
                            &["n"],
                        ),
                        "Random Gaussian weights (SCIENCE.md A5).",
                    ),
                    "sweep": nullable(sweep(&GAUSSIAN_SWEEP_PARAMS, w)),
                    "weights": absent,
                    "nrooks": absent,
                }),
            ),
            &["ensemble"],
        ),
        "A random Gaussian ensemble, optionally swept over one parameter.",
    );
    let list_of = |items: Value| array(items, 1, max_n);
    let nrooks = described(
        object(
            merged(
                &shared,
                json!({
                    "nrooks": described(
                        object(
                            json!({
                                "n": count(max_n),
                                "q": num(-w, w),
                                "permutation": described(
                                    json!({
                                        "oneOf": [
                                            {"type": "string", "enum": ["random", "ring"]},
                                            list_of(int(0, max_n as i64 - 1)),
                                        ],
                                        "default": "random",
                                    }),
                                    "`random`, `ring` or an explicit list `[t_0, …]` (neuron j \
                                     drives neuron t_j) holding each of 0..N−1 once",
                                ),
                                "signs": described(
                                    json!({
                                        "oneOf": [
                                            {"type": "string", "enum": ["random", "positive"]},
                                            list_of(json!({"type": "number", "enum": [-1, 1]})),
                                        ],
                                        "default": "random",
                                    }),
                                    "`random`, `positive` or one sign (1 or −1) per source neuron",
                                ),
                                "replicates": with_default(count(l.max_networks), 1),
                            }),
                            &["n", "q"],
                        ),
                        "An N-rooks matrix: one weight ±q per row and per column.",
                    ),
                    "sweep": nullable(sweep(&NROOKS_SWEEP_PARAMS, w)),
                    "weights": absent,
                    "ensemble": absent,
                }),
            ),
            &["nrooks"],
        ),
        "An N-rooks construction, optionally swept over one parameter.",
    );
    described(
        json!({"oneOf": [weights, ensemble, nrooks]}),
        "Exactly one of `weights`, `ensemble` or `nrooks`; `sweep` repeats the ensemble or \
         N-rooks construction for each value of one parameter.",
    )
}

/// A sweep: one branch per parameter, each with the bounds of that parameter's values.
fn sweep(params: &[&str], w: f64) -> Value {
    let branches: Vec<Value> = params
        .iter()
        .map(|&param| {
            let value = match param {
                "std" => num(0.0, w),
                "density" => json!({"type": "number", "exclusiveMinimum": 0, "maximum": 1}),
                "balance" => num(-1.0, 1.0),
                "noise_std" => num(0.0, MAX_NOISE_STD),
                _ => num(-w, w),
            };
            object(
                json!({"param": tag(param), "values": array(value, 1, MAX_SWEEP_VALUES)}),
                &["param", "values"],
            )
        })
        .collect();
    described(
        json!({"oneOf": branches}),
        "Repeat the construction for each value of `param` (values × replicates networks).",
    )
}

// ---- kind `evolution` ------------------------------------------------------------------------

fn evolution_spec() -> Value {
    let objective_names = crate::jobs::evolution::spec::objective_names();
    described(
        object(
            json!({
                "n": described(
                    int(2, EVOLUTION_MAX_N),
                    &format!(
                        "neurons; the `mi` objective needs N ≤ {EXACT_MAX_N}, `correlation` N ≤ \
                         {CORRELATION_MAX_N}, `mean_period` N ≤ {MEAN_PERIOD_MAX_N}"
                    ),
                ),
                "init": evolution_init(),
                "strategy": described(
                    string_enum(&["plus", "comma"], "plus"),
                    "(μ+λ) or (μ,λ); `comma` needs parents ≤ offspring",
                ),
                "parents": with_default(int(1, MAX_PARENTS as i64), 16),
                "offspring": with_default(int(1, MAX_OFFSPRING as i64), 64),
                "generations": with_default(int(1, MAX_GENERATIONS), 200),
                "selection": described(
                    json!({
                        "oneOf": [
                            {
                                "type": "object",
                                "properties": {"type": tag("truncation")},
                                "required": ["type"],
                            },
                            {
                                "type": "object",
                                "properties": {
                                    "type": tag("tournament"),
                                    "size": described(
                                        int(1, MAX_PARENTS as i64),
                                        "tournament size, at most `parents`",
                                    ),
                                },
                                "required": ["type", "size"],
                            },
                        ],
                        "default": {"type": "truncation"},
                    }),
                    "How each offspring's parent is chosen.",
                ),
                "elitism": described(
                    with_default(int(0, MAX_PARENTS as i64), 0),
                    "best parents carried unchanged into a (μ,λ) generation; at most `parents`",
                ),
                "mutation": object(
                    json!({
                        "std": with_default(json!({"type": "number", "exclusiveMinimum": 0}), 0.1),
                        "rate": with_default(
                            json!({"type": "number", "exclusiveMinimum": 0, "maximum": 1}),
                            1,
                        ),
                        "adaptive": boolean(false),
                    }),
                    &[],
                ),
                "evolve_bias": boolean(false),
                "constraint": described(
                    nullable(json!({
                        "oneOf": [
                            {
                                "type": "object",
                                "properties": {"type": tag("frobenius"), "value": positive_float()},
                                "required": ["type", "value"],
                            },
                            {
                                "type": "object",
                                "properties": {"type": tag("box"), "bound": positive_float()},
                                "required": ["type", "bound"],
                            },
                            {
                                "type": "object",
                                "properties": {"type": tag("none")},
                                "required": ["type"],
                            },
                        ],
                    })),
                    "The weight budget applied after every mutation: rescale to ‖W‖_F = value \
                     (default 3·√N), clip to [−bound, bound], or none.",
                ),
                "objectives": described(
                    json!({
                        "type": "array",
                        "items": object(
                            json!({
                                "name": {"type": "string", "enum": objective_names},
                                "weight": with_default(json!({"type": "number"}), 1),
                            }),
                            &["name"],
                        ),
                        "minItems": 1,
                        "maxItems": objective_names.len(),
                        "default": [{"name": "mi", "weight": 1}],
                    }),
                    "Each objective at most once. Weighted mode: fitness = Σ weight·value, some \
                     weight non-zero; Pareto mode: at least two objectives, only the sign of a \
                     (non-zero) weight counts (negative = minimise).",
                ),
                "mode": string_enum(&["weighted", "pareto"], "weighted"),
                "period_weighting": described(
                    string_enum(&["attractor", "state"], "attractor"),
                    "the `mean_period` objective: mean over attractors, or basin-weighted",
                ),
                "input": string_enum(&["symmetric", "binary"], "symmetric"),
                "correlation": described(
                    json!({
                        "type": "object",
                        "properties": {"lag": int(0, 1), "include_diagonal": {"type": "boolean"}},
                        "required": ["lag", "include_diagonal"],
                        "default": {"lag": 1, "include_diagonal": true},
                    }),
                    "Which pairs enter the correlation proxy C.",
                ),
                "correlation_sampling": described(
                    json!({
                        "type": "object",
                        "properties": {"steps": uint(), "burn_in": uint(), "runs": uint()},
                        "required": ["steps", "burn_in", "runs"],
                        "default": {"steps": 2000, "burn_in": 200, "runs": 1},
                    }),
                    &format!(
                        "Simulation effort per sampled evaluation of C (beyond N = 12): then \
                         steps and runs ≥ 1 and (burn_in + steps) × runs × N² ≤ \
                         {MAX_CORRELATION_WORK:e}"
                    ),
                ),
                "attractor_sampling": described(
                    json!({
                        "type": "object",
                        "properties": {"starts": uint(), "max_steps": uint()},
                        "required": ["starts", "max_steps"],
                        "default": {"starts": 1000, "max_steps": 10_000},
                    }),
                    "Random starts of the `mean_period` objective beyond N = 24 (then within \
                     the attractor search's bounds).",
                ),
                "seed": seed(),
                "checkpoint_every": with_default(int(1, MAX_GENERATIONS), 25),
            }),
            &["n"],
        ),
        "Spec of kind `evolution`. Not expressible here and checked by the server (a 422 names \
         the field): N limits per objective, parents ≤ offspring for `comma`, elitism and \
         tournament size ≤ parents, an N×N `init.weights` with N biases (and a bias only with \
         `evolve_bias`), `init.from_job` naming an evolution job with a result or checkpoint, \
         and the whole job's estimated work under the server's `--max-job-work`.",
    )
}

/// At most one source of the first generation: none (the default ensemble), `ensemble`,
/// `weights`, or `from_job` / `population`.
fn evolution_init() -> Value {
    let absent = json!({"type": "null"});
    let n = EVOLUTION_MAX_N as usize;
    let numbers = |min: usize| array(json!({"type": "number"}), min, n);
    // Read only with `weights` or `population`; otherwise any list of numbers is ignored.
    let ignored_bias = nullable(array(json!({"type": "number"}), 0, usize::MAX));
    let genome = json!({
        "type": "object",
        "properties": {
            "weights": {"type": "array", "items": float_or_string(), "minItems": 4, "maxItems": n * n},
            "bias": nullable(array(float_or_string(), 2, n)),
            "step_size": float_or_string(),
        },
        "required": ["weights", "step_size"],
        "description": "row-major N×N weights, N biases when the bias evolves, mutation step size",
    });
    let branch = |given: Value, required: &[&str], description: &str| {
        let mut props = json!({
            "ensemble": absent,
            "weights": absent,
            "bias": ignored_bias,
            "from_job": absent,
            "population": absent,
        });
        for (k, v) in given.as_object().expect("an object of properties") {
            props[k] = v.clone();
        }
        described(object(props, required), description)
    };
    let ensemble = object(
        json!({
            "type": described(
                json!({"type": "string", "default": "gaussian"}),
                "accepted for symmetry with `mi`; the ensemble is always Gaussian",
            ),
            "mean": with_default(json!({"type": "number"}), 0),
            "std": with_default(num_min(0.0), 1),
            "density": with_default(num(0.0, 1.0), 1),
            "balance": nullable(num(-1.0, 1.0)),
            "self_connections": boolean(true),
            "scale_by_sqrt_n": boolean(false),
        }),
        &[],
    );
    described(
        json!({
            "oneOf": [
                branch(json!({}), &[], "The default: a Gaussian ensemble with std 1."),
                branch(json!({"ensemble": ensemble}), &["ensemble"], "Each parent drawn from a Gaussian ensemble."),
                branch(
                    json!({"weights": array(numbers(2), 2, n), "bias": nullable(numbers(2))}),
                    &["weights"],
                    "Each parent a mutated copy of this N×N matrix (row = target) and its N biases.",
                ),
                branch(
                    json!({
                        "from_job": {"type": "string"},
                        "population": nullable(array(genome.clone(), 1, usize::MAX)),
                    }),
                    &["from_job"],
                    "Start from another evolution job: its best genome when it has succeeded, \
                     else the population of its latest checkpoint (resolved at submission into \
                     `population`).",
                ),
                branch(
                    json!({"population": array(genome, 1, usize::MAX)}),
                    &["population"],
                    "These genomes (as stored for a resolved `from_job`).",
                ),
            ],
            "default": {},
        }),
        "Where the first generation comes from: at most one of `ensemble`, `weights` or \
         `from_job` / `population`.",
    )
}

// ---- kind `lif` ------------------------------------------------------------------------------

fn lif_spec() -> Value {
    let max_steps = MAX_STEPS as i64;
    let steps = described(
        int(1, max_steps),
        "time steps per sample (a synthetic task's `steps` with `raster`)",
    );
    let coding = |name: &str, index: u64, extra: Value, description: &str| {
        let mut props = json!({"type": variant(name, index), "steps": steps});
        for (k, v) in extra.as_object().expect("an object of properties") {
            props[k] = v.clone();
        }
        json!({
            "type": "object",
            "properties": props,
            "required": ["type", "steps"],
            "description": description,
        })
    };
    let units = int(1, MAX_UNITS as i64);
    let lif_layer = described(
        object(
            json!({
                "type": tag("lif"),
                "units": with_default(units.clone(), 256),
                "leak_init": described(
                    json!({
                        "type": "array",
                        "items": num(0.0, 1.0),
                        "minItems": 2,
                        "maxItems": 2,
                        "default": [0.0, 0.1],
                    }),
                    "leaks start uniform in [lo, hi], 0 ≤ lo ≤ hi ≤ 1",
                ),
                "trainable_leak": boolean(true),
                "clamp_leak": boolean(true),
                "threshold": with_default(num(1e-6, 1e6), 1),
                "reset": string_enum(&["zero", "subtract"], "zero"),
                "surrogate": string_enum(&["flat", "superspike", "sigmoid", "triangle"], "flat"),
                "beta": described(
                    with_default(num(1e-6, 1e6), 10),
                    "shape of the surrogate (unused by `flat`)",
                ),
            }),
            &["type"],
        ),
        "A spiking layer (SCIENCE.md B1).",
    );
    let dense_layer = described(
        object(
            json!({
                "type": tag("dense"),
                "units": with_default(units, 128),
                "activation": string_enum(&["relu"], "relu"),
            }),
            &["type"],
        ),
        "A non-spiking layer relu(W·x_t + b) applied at every step.",
    );
    described(
        object(
            json!({
                "dataset": lif_dataset(),
                "split": described(
                    nullable(object(
                        json!({"train": uint_min(1), "test": uint_min(1)}),
                        &["train", "test"],
                    )),
                    "Train on the first `train` samples, test on the last `test` (together at \
                     most the dataset's count). Default: 8000/2000 for `mnist10k`, 80 % / 20 % \
                     for an uploaded dataset; not with a synthetic task, which sets its own sizes.",
                ),
                "encoding": described(
                    json!({
                        "oneOf": [
                            coding("poisson", 0, json!({"rate": with_default(num(0.0, 1e6), 1)}), "spike with probability min(1, x·rate) at every step"),
                            coding("constant", 1, json!({"gain": with_default(num(-1e6, 1e6), 1)}), "the current x·gain at every step"),
                            coding("latency", 2, json!({"x_min": with_default(num(0.0, 1.0), 0)}), "one spike at step ⌊(1 − x)·(T − 1)⌋ for x > x_min"),
                            coding("raster", 3, json!({}), "the sample already is a [steps, channels] raster (synthetic tasks only)"),
                        ],
                        "default": {"type": "poisson", "rate": 1, "steps": 25},
                    }),
                    "How pixel values in [0, 1] become input over time.",
                ),
                "layers": described(
                    json!({
                        "type": "array",
                        "items": {"oneOf": [lif_layer, dense_layer]},
                        "maxItems": MAX_LAYERS,
                        "default": [{"type": "lif"}],
                    }),
                    &format!(
                        "Hidden layers in order. The network may hold at most {MAX_PARAMS} \
                         parameters and (units + inputs + classes) × steps ≤ {MAX_UNIT_STEPS}."
                    ),
                ),
                "readout": object(
                    json!({
                        "type": string_enum(&["leaky_integrator"], "leaky_integrator"),
                        "decode": described(
                            string_enum(&["last", "max", "mean"], "last"),
                            "class scores: the last membrane value, its maximum or its mean",
                        ),
                        "trainable_leak": boolean(true),
                        "leak_init": with_default(num(0.0, 1.0), 0),
                    }),
                    &[],
                ),
                "loss": string_enum(&["cross_entropy", "mse"], "cross_entropy"),
                "optimizer": described(
                    json!({
                        "type": "object",
                        "properties": {
                            "type": tag("adam"),
                            "lr": with_default(num(1e-12, 1.0), 1e-3),
                            "beta1": with_default(num(0.0, 0.999_999), 0.9),
                            "beta2": with_default(num(0.0, 0.999_999_999), 0.999),
                            "eps": with_default(num(1e-30, 1.0), 1e-8),
                        },
                        "required": ["type"],
                        "default": {"type": "adam"},
                    }),
                    "Adam (the only optimiser so far).",
                ),
                "schedule": described(
                    nullable(object(
                        json!({
                            "factor": with_default(num(1e-6, 0.999_999), 0.5),
                            "patience": with_default(int(0, 1000), 2),
                            "min_lr": with_default(num(0.0, 1.0), 1e-6),
                        }),
                        &[],
                    )),
                    "Reduce-on-plateau: multiply the learning rate by `factor` once the training \
                     loss has not improved for more than `patience` epochs, never below `min_lr`.",
                ),
                "batch_size": with_default(int(1, MAX_BATCH as i64), 128),
                "epochs": with_default(int(1, MAX_EPOCHS as i64), 10),
                "seed": seed(),
                "checkpoint_every": described(
                    with_default(int(1, MAX_EPOCHS as i64), 1),
                    "checkpoint after every this many epochs (and after the last)",
                ),
                "raster_sample": described(
                    with_default(uint(), 0),
                    "index (below the test set's size) of the test sample whose spike raster \
                     the result shows",
                ),
            }),
            &["dataset"],
        ),
        "Spec of kind `lif`. Not expressible here and checked by the server (a 422 names the \
         field): an uploaded dataset must exist; `raster` coding goes with synthetic tasks \
         (with their `steps`) and only with them; `split` and `raster_sample` must fit the \
         dataset; the network's parameter and unit × step bounds; and the whole job's \
         estimated work under the server's `--max-job-work`.",
    )
}

/// Exactly one of a built-in name, an uploaded dataset's id or a synthetic task.
fn lif_dataset() -> Value {
    let absent = json!({"type": "null"});
    let max_samples = MAX_SYNTHETIC_SAMPLES as i64 - 1;
    let task = |name: &str, extra: Value, description: &str| {
        let mut props = json!({
            "task": tag(name),
            "channels": with_default(int(1, 256), 4),
            "train": with_default(int(1, max_samples), 2000),
            "test": with_default(int(1, max_samples), 500),
        });
        for (k, v) in extra.as_object().expect("an object of properties") {
            props[k] = v.clone();
        }
        json!({
            "type": "object",
            "properties": props,
            "required": ["task"],
            "description": format!(
                "{description} train + test ≤ {MAX_SYNTHETIC_SAMPLES}. Fields of the job \
                 spec left out take the synthetic defaults: `encoding` \
                 `{{\"type\": \"raster\", \"steps\": <the task's steps>}}`, one layer of \
                 {units} LIF neurons, a fixed leaky-integrator read-out (λ_out 0.5, decoded by \
                 its maximum), Adam lr 0.01, batch 32, {epochs} epochs (the settings of the \
                 paired operating-mode experiment, BENCHMARKS.md).",
                units = crate::jobs::lif::synthetic_defaults::SYNTHETIC_UNITS,
                epochs = crate::jobs::lif::synthetic_defaults::SYNTHETIC_EPOCHS,
            ),
        })
    };
    let steps = |default: i64| with_default(int(2, MAX_STEPS as i64), default);
    let coincidence = crate::engine::lif::CoincidenceSpec::default();
    let integration = crate::engine::lif::IntegrationSpec::default();
    // threshold + spread ≤ channels × steps, spread ≥ 1.
    let max_cells = 256 * MAX_STEPS as i64;
    let synthetic = described(
        json!({
            "oneOf": [
                task(
                    "coincidence",
                    json!({
                        "steps": steps(coincidence.steps as i64),
                        "window": described(
                            with_default(int(1, MAX_STEPS as i64 - 2), coincidence.window as i64),
                            "at most steps − 2",
                        ),
                    }),
                    "Two spikes; class 1 iff they are 1..=window steps apart.",
                ),
                task(
                    "integration",
                    json!({
                        "steps": steps(integration.steps as i64),
                        "threshold": with_default(int(0, max_cells - 1), integration.threshold as i64),
                        "spread": described(
                            with_default(int(1, max_cells), integration.spread as i64),
                            "at most threshold + 1; threshold + spread ≤ channels × steps",
                        ),
                        "margin": with_default(uint(), integration.margin as i64),
                    }),
                    "n spikes; class 1 iff n > threshold.",
                ),
            ],
        }),
        "A synthetic temporal task.",
    );
    let branch = |given: (&str, Value), description: &str| {
        let mut props = json!({"builtin": absent, "id": absent, "synthetic": absent});
        props[given.0] = given.1;
        described(object(props, &[given.0]), description)
    };
    described(
        json!({
            "oneOf": [
                branch(("builtin", tag(MNIST10K)), "The built-in MNIST subset (10,000 samples)."),
                branch(
                    ("id", json!({"type": "string"})),
                    "An uploaded dataset (`POST /v1/datasets`); it must exist.",
                ),
                branch(("synthetic", synthetic), "A generated task."),
            ],
        }),
        "Exactly one of `builtin`, `id` or `synthetic`.",
    )
}

// ---- helpers ---------------------------------------------------------------------------------

fn int(min: i64, max: i64) -> Value {
    json!({"type": "integer", "minimum": min, "maximum": max})
}

/// A non-negative integer read as `usize` / `u64`.
fn uint() -> Value {
    json!({"type": "integer", "minimum": 0, "maximum": u64::MAX})
}

fn uint_min(min: u64) -> Value {
    json!({"type": "integer", "minimum": min, "maximum": u64::MAX})
}

fn num(min: f64, max: f64) -> Value {
    json!({"type": "number", "minimum": min, "maximum": max})
}

fn num_min(min: f64) -> Value {
    json!({"type": "number", "minimum": min})
}

/// A number, or a string holding a decimal number (the form the server writes engine floats
/// in, so that they read back exactly).
fn float_or_string() -> Value {
    json!({
        "type": ["number", "string"],
        "pattern": r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$",
    })
}

/// A positive number, or a string holding one.
fn positive_float() -> Value {
    json!({
        "type": ["number", "string"],
        "exclusiveMinimum": 0,
        "pattern": r"^\s*\+?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$",
        "description": "a positive number (or a string holding one, as the server stores it)",
    })
}

fn boolean(default: bool) -> Value {
    json!({"type": "boolean", "default": default})
}

fn seed() -> Value {
    described(
        nullable(uint()),
        "seed of every random choice; chosen at submission and recorded when absent",
    )
}

fn tag(name: &str) -> Value {
    json!({"type": "string", "enum": [name]})
}

/// The `type` of `encoding`. serde reads a flattened internally tagged enum through its buffered
/// content, where the variant's index stands for its name (`{"type": 3, "steps": 20}` is
/// `raster`), so the document lists both; the other tagged objects take names only.
fn variant(name: &str, index: u64) -> Value {
    json!({
        "type": ["string", "integer"],
        "enum": [name, index],
        "description": format!("`{name}` (the server also reads the variant's index, {index})"),
    })
}

fn string_enum(names: &[&str], default: &str) -> Value {
    json!({"type": "string", "enum": names, "default": default})
}

/// An array of `items` with at least `min` and (unless `usize::MAX`) at most `max` entries.
fn array(items: Value, min: usize, max: usize) -> Value {
    let mut a = json!({"type": "array", "items": items});
    if min > 0 {
        a["minItems"] = json!(min);
    }
    if max != usize::MAX {
        a["maxItems"] = json!(max);
    }
    a
}

/// An object with these properties that refuses any other (`deny_unknown_fields`).
fn object(properties: Value, required: &[&str]) -> Value {
    let mut o = json!({"type": "object", "properties": properties, "additionalProperties": false});
    if !required.is_empty() {
        o["required"] = json!(required);
    }
    o
}

/// `schema` or `null` (an `Option` the server reads `null` into as absent).
fn nullable(mut schema: Value) -> Value {
    match schema.get("type").cloned() {
        Some(Value::String(t)) => {
            schema["type"] = json!([t, "null"]);
            schema
        }
        Some(Value::Array(mut types)) => {
            types.push(json!("null"));
            schema["type"] = Value::Array(types);
            schema
        }
        _ => {
            let description = schema.as_object_mut().and_then(|o| o.remove("description"));
            let mut wrapped = json!({"oneOf": [schema, {"type": "null"}]});
            if let Some(d) = description {
                wrapped["description"] = d;
            }
            wrapped
        }
    }
}

fn described(mut schema: Value, description: &str) -> Value {
    schema["description"] = json!(description);
    schema
}

fn with_default(mut schema: Value, default: impl Into<Value>) -> Value {
    schema["default"] = default.into();
    schema
}

/// `base` with the properties of `more` added (or replaced).
fn merged(base: &Value, more: Value) -> Value {
    let mut out = base.clone();
    for (k, v) in more.as_object().expect("an object of properties") {
        out[k] = v.clone();
    }
    out
}

#[cfg(test)]
#[path = "openapi_tests.rs"]
mod tests;
