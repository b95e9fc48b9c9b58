//! The Python face of mcptool: `mcptool._native`, built by maturin as an abi3 extension
//! module (Python ≥ 3.10). Only types and lifecycles are translated here; every protocol
//! rule lives in the Rust core.
//!
//! - `client::PyClient` and `tool::PyTool` wrap [`mcptool::Client`] and
//!   [`mcptool::McpStreamableHttpTool`]; their async methods return asyncio awaitables
//!   (on pyo3-async-runtimes' tokio runtime). Cancelling the awaiting task drops the Rust
//!   future, which cancels the request the way its protocol era says.
//! - `future` turns Rust futures into asyncio futures, and is the one door through which
//!   core threads reach Python (closed at interpreter exit).
//! - `callbacks` runs Python callables (header provider, server-request handlers,
//!   approver, OAuth authorize) from the core, on the event loop that connected the instance.
//! - `convert` maps JSON values to Python objects and back, losslessly.
//! - `errors` turns core errors into the exceptions of `mcptool.errors`.

use pyo3::prelude::*;

mod callbacks;
mod client;
mod convert;
mod errors;
mod future;
mod oauth;
mod options;
mod shapes;
mod tool;

/// The module `mcptool._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<client::PyClient>()?;
    m.add_class::<tool::PyTool>()?;
    m.add_class::<oauth::PyOAuth>()?;
    m.add_function(wrap_pyfunction!(future::shutdown, m)?)?;
    Ok(())
}
