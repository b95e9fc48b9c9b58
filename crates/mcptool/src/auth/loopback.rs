//! The ready authorization handler: the browser, and a redirect listener on 127.0.0.1.

use std::convert::Infallible;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::handler::{AuthorizationHandler, AuthorizeFuture};

/// Opens the authorization URL in the user's browser and receives the redirect on a listener
/// bound to 127.0.0.1 (RFC 8252 §7.3).
///
/// The browser is the program in `$BROWSER` (given the URL as its one argument), else the
/// platform's opener (`xdg-open`, `open`, `start`); the URL is also printed on stderr, so a user
/// without a browser on this machine can open it elsewhere. The listener takes the first request
/// to its path, answers it with a short page, and is closed; other paths get 404. It waits at
/// most [`timeout`](LoopbackBrowser::timeout) (5 minutes by default).
#[derive(Clone)]
pub struct LoopbackBrowser {
    port: u16,
    path: String,
    timeout: Duration,
    browser: Option<String>,
    listener: Arc<Mutex<Option<std::net::TcpListener>>>,
}

impl fmt::Debug for LoopbackBrowser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopbackBrowser")
            .field("port", &self.port)
            .field("path", &self.path)
            .field("timeout", &self.timeout)
            .field("browser", &self.browser)
            .finish_non_exhaustive()
    }
}

impl Default for LoopbackBrowser {
    fn default() -> LoopbackBrowser {
        LoopbackBrowser::new()
    }
}

impl LoopbackBrowser {
    /// A handler on a free port, path `/callback`, with the browser from `$BROWSER` or the platform.
    pub fn new() -> LoopbackBrowser {
        LoopbackBrowser {
            port: 0,
            path: "/callback".to_owned(),
            timeout: Duration::from_secs(300),
            browser: None,
            listener: Arc::new(Mutex::new(None)),
        }
    }

    /// Listens on this port (for a pre-registered redirect URI) instead of a free one.
    pub fn port(mut self, port: u16) -> LoopbackBrowser {
        self.port = port;
        self
    }

    /// The redirect path (default `/callback`).
    pub fn path(mut self, path: impl Into<String>) -> LoopbackBrowser {
        let path = path.into();
        self.path = if path.starts_with('/') {
            path
        } else {
            format!("/{path}")
        };
        self
    }

    /// How long to wait for the user to come back.
    pub fn timeout(mut self, timeout: Duration) -> LoopbackBrowser {
        self.timeout = timeout;
        self
    }

    /// The program to open the URL with, instead of `$BROWSER` or the platform's opener.
    pub fn browser(mut self, program: impl Into<String>) -> LoopbackBrowser {
        self.browser = Some(program.into());
        self
    }

    fn bind(&self) -> Result<u16, String> {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, self.port))
            .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", self.port))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        *self.listener.lock().unwrap_or_else(PoisonError::into_inner) = Some(listener);
        Ok(port)
    }

    async fn run(&self, url: &str) -> Result<String, String> {
        let listener = match self
            .listener
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            Some(listener) => listener,
            None => return Err("the redirect listener was not prepared".to_owned()),
        };
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let listener = TcpListener::from_std(listener).map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        open_browser(self.browser.as_deref(), url);
        tokio::time::timeout(self.timeout, receive(listener, addr, &self.path))
            .await
            .map_err(|_| {
                format!(
                    "no redirect reached {addr}{} within {} s",
                    self.path,
                    self.timeout.as_secs()
                )
            })?
    }
}

impl AuthorizationHandler for LoopbackBrowser {
    fn redirect_uri(&self) -> AuthorizeFuture<'_> {
        Box::pin(async move {
            let port = self.bind()?;
            Ok(format!("http://127.0.0.1:{port}{}", self.path))
        })
    }

    fn authorize<'a>(&'a self, url: &'a str) -> AuthorizeFuture<'a> {
        Box::pin(self.run(url))
    }
}

/// Starts the browser on `url` without waiting for it, and prints the URL.
fn open_browser(program: Option<&str>, url: &str) {
    eprintln!("Opening the authorization page; if no browser opens, visit:\n  {url}");
    let from_env = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty());
    let candidates: Vec<String> = match program.map(str::to_owned).or(from_env) {
        Some(program) => vec![program],
        None if cfg!(target_os = "macos") => vec!["open".to_owned()],
        None if cfg!(windows) => vec!["explorer".to_owned()],
        None => vec!["xdg-open".to_owned()],
    };
    for program in candidates {
        let spawned = std::process::Command::new(&program)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .spawn();
        if let Ok(mut child) = spawned {
            // Reap it whenever it ends; it may outlive the flow (a browser window).
            std::thread::spawn(move || child.wait());
            return;
        }
    }
}

/// Serves the listener until a request reaches `path`; returns that request's full URL.
async fn receive(listener: TcpListener, addr: SocketAddr, path: &str) -> Result<String, String> {
    let (tx, mut rx) = mpsc::channel::<String>(1);
    let path: Arc<str> = Arc::from(path);
    loop {
        tokio::select! {
            got = rx.recv() => {
                return got.map(|target| format!("http://{addr}{target}"))
                    .ok_or_else(|| "the redirect listener stopped".to_owned());
            }
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let (tx, path) = (tx.clone(), Arc::clone(&path));
                tokio::spawn(async move {
                    let service = service_fn(move |req| answer(req, tx.clone(), Arc::clone(&path)));
                    let conn = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service);
                    let _ = tokio::time::timeout(Duration::from_secs(10), conn).await;
                });
            }
        }
    }
}

async fn answer(
    req: Request<Incoming>,
    tx: mpsc::Sender<String>,
    path: Arc<str>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let page = |status: StatusCode, text: &'static str| {
        let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
        *response.status_mut() = status;
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        Ok(response)
    };
    if req.uri().path() != &*path {
        return page(StatusCode::NOT_FOUND, "not found\n");
    }
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(String::new, |p| p.to_string());
    let done = tx.try_send(target).is_ok();
    if done {
        page(
            StatusCode::OK,
            "mcptool: authorization received. You can close this window.\n",
        )
    } else {
        page(
            StatusCode::GONE,
            "mcptool: this redirect was already received.\n",
        )
    }
}
