//! The HTTP front door: our own accept loop around hyper, because `axum::serve` sets neither a
//! header-read timeout nor a connection cap. Idle and half-sent connections are closed after
//! `header_timeout`, request bodies that stall or crawl are cut off; connections beyond `max_connections` get a 503 and are closed at once; an
//! accept that fails for lack of file descriptors waits and retries instead of spinning.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceBuilder;
use tower_http::timeout::{RequestBodyDeadlineLayer, RequestBodyTimeoutLayer};

/// Descriptors kept free for the database, uploads and logs when the cap is derived from the
/// process's file limit.
const RESERVED_FDS: u64 = 64;

/// How the front door treats connections.
#[derive(Debug, Clone)]
pub struct ListenConfig {
    /// Most connections open at once (further ones get a 503 and are closed).
    pub max_connections: usize,
    /// Time a client has to send a request's headers, including the wait of an idle
    /// keep-alive connection for its next request.
    pub header_timeout: Duration,
    /// Longest pause between two chunks of a request body.
    pub body_idle: Duration,
    /// Longest time a whole request body may take to arrive.
    pub body_deadline: Duration,
    /// How long open connections may take to finish at shutdown.
    pub drain_timeout: Duration,
}

/// Raises the soft file-descriptor limit to the hard one (as many servers do) and returns the
/// resulting soft limit, or `None` where it cannot be read.
pub fn raise_fd_limit() -> Option<u64> {
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max.min(1 << 20),
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_cur = raised.rlim_cur;
            }
        }
        Some(limit.rlim_cur)
    }
}

/// The connection cap: `requested`, lowered to fit under the file limit with room to spare.
pub fn connection_cap(requested: usize, fd_limit: Option<u64>) -> usize {
    match fd_limit {
        Some(limit) => {
            let room = limit.saturating_sub(RESERVED_FDS).max(8) as usize;
            if room < requested {
                tracing::warn!(
                    requested,
                    fd_limit = limit,
                    cap = room,
                    "connection cap lowered to fit the file-descriptor limit"
                );
            }
            requested.min(room)
        }
        None => requested,
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets open connections finish
/// (at most `drain_timeout`).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    config: ListenConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let slots = Arc::new(Semaphore::new(config.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_timeout)
        .keep_alive(true);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut refused_logged = false;
    loop {
        let accepted = tokio::select! {
            _ = shutdown.as_mut() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // EMFILE / ENFILE and friends: the connection waits in the backlog while
                // others close; retrying at once would spin.
                tracing::warn!(error = %e, "accept failed; retrying shortly");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            if !refused_logged {
                tracing::warn!(
                    cap = config.max_connections,
                    "connection cap reached; refusing new connections with 503"
                );
                refused_logged = true;
            }
            tokio::spawn(refuse(stream));
            continue;
        };
        refused_logged = false;
        let _ = stream.set_nodelay(true);
        let service = ServiceBuilder::new()
            .layer(RequestBodyDeadlineLayer::new(config.body_deadline))
            .layer(RequestBodyTimeoutLayer::new(config.body_idle))
            .map_request(move |mut r: hyper::Request<_>| {
                // Who connected: for the audit log.
                r.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                r.map(Body::new)
            })
            .service(app.clone());
        let connection =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(config.drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the drain timeout; closing them");
    }
}

/// Answers a connection over the cap with a 503 problem document and closes it.
async fn refuse(mut stream: TcpStream) {
    let body = r#"{"type":"/problems/unavailable","title":"Service unavailable","status":503,"detail":"too many open connections; retry shortly","errors":[]}"#;
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}
