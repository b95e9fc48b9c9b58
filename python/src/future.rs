//! Rust futures as asyncio futures, and the one door through which core threads reach
//! Python.
//!
//! A call made from Python creates an asyncio future on the running loop and spawns its Rust
//! future on the tokio runtime. When the Rust future ends, the tokio thread converts the
//! outcome and hands it to the loop with `call_soon_threadsafe`; cancelling the asyncio future
//! (its awaiting task was cancelled) aborts the tokio task, which drops the Rust future, and
//! the core cancels the request as its protocol era says.
//!
//! Every touch of Python from a core thread goes through [`with_python`]. At interpreter exit
//! (an `atexit` hook of the package calls [`shutdown`]) the door closes: the hook waits, with
//! the GIL released, for the threads inside to leave, and later arrivals do nothing. Without
//! it a tokio thread could be re-taking the GIL while the interpreter finalizes, which
//! CPython answers by ending the thread in the middle of Rust frames (an abort), or free an
//! object after finalization (a crash).

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use tokio::task::AbortHandle;

use crate::errors;

static EXITING: AtomicBool = AtomicBool::new(false);
static INSIDE: AtomicUsize = AtomicUsize::new(0);

/// How long interpreter exit waits for core threads to leave Python.
const EXIT_WAIT: Duration = Duration::from_secs(2);

/// Runs `f` with the GIL from a core thread, unless the interpreter is exiting (then `None`).
pub(crate) fn with_python<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> Option<R> {
    INSIDE.fetch_add(1, Ordering::SeqCst);
    let out = if EXITING.load(Ordering::SeqCst) {
        None
    } else {
        Some(Python::attach(f))
    };
    INSIDE.fetch_sub(1, Ordering::SeqCst);
    out
}

/// Closes the door at interpreter exit (`atexit`): no core thread enters Python afterwards,
/// and those inside are waited for (up to 2 s), with the GIL released so they can finish.
#[pyfunction]
pub(crate) fn shutdown(py: Python<'_>) {
    EXITING.store(true, Ordering::SeqCst);
    py.detach(|| {
        let deadline = Instant::now() + EXIT_WAIT;
        while INSIDE.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

/// Why a call failed: the core's error, or a Python one (a conversion, a callback).
#[derive(Debug)]
pub(crate) enum Failure {
    Core(mcptool::Error),
    Python(PyErr),
}

impl From<mcptool::Error> for Failure {
    fn from(e: mcptool::Error) -> Failure {
        Failure::Core(e)
    }
}

impl From<PyErr> for Failure {
    fn from(e: PyErr) -> Failure {
        Failure::Python(e)
    }
}

/// Aborts the call's tokio task when its asyncio future is cancelled.
#[pyclass(frozen)]
struct Canceller {
    handle: AbortHandle,
}

#[pymethods]
impl Canceller {
    fn __call__(&self, future: &Bound<'_, PyAny>) -> PyResult<()> {
        if future
            .call_method0(pyo3::intern!(future.py(), "cancelled"))?
            .is_truthy()?
        {
            self.handle.abort();
        }
        Ok(())
    }
}

static RESOLVE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn resolver(py: Python<'_>) -> PyResult<&Py<PyAny>> {
    RESOLVE.get_or_try_init(py, || {
        Ok(py.import("mcptool._loop")?.getattr("resolve")?.unbind())
    })
}

/// `fut` as an asyncio future of the running loop.
pub(crate) fn spawn<'py, F, T>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Result<T, Failure>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let event_loop = pyo3_async_runtimes::get_running_loop(py)?;
    let future = event_loop.call_method0(pyo3::intern!(py, "create_future"))?;
    let target = (event_loop.unbind(), future.clone().unbind());
    let task = pyo3_async_runtimes::tokio::get_runtime().spawn(async move {
        let outcome = fut.await;
        deliver(target, outcome);
    });
    let canceller = Canceller {
        handle: task.abort_handle(),
    };
    future.call_method1(pyo3::intern!(py, "add_done_callback"), (canceller,))?;
    Ok(future)
}

/// Hands `outcome` to the future's loop (nothing, if the loop is gone or Python exiting).
fn deliver<T>(target: (Py<PyAny>, Py<PyAny>), outcome: Result<T, Failure>)
where
    T: for<'a> IntoPyObject<'a>,
{
    with_python(move |py| {
        let (event_loop, future) = target;
        let (ok, value) = match outcome.map(|v| v.into_py_any(py)) {
            Ok(Ok(value)) => (true, value),
            Ok(Err(e)) => (false, e.into_value(py).into_any()),
            Err(Failure::Core(e)) => (false, errors::core_error(py, &e).into_value(py).into_any()),
            Err(Failure::Python(e)) => (false, e.into_value(py).into_any()),
        };
        let Ok(resolve) = resolver(py) else { return };
        // A closed loop refuses: its awaiter is gone, and so is the need for the outcome.
        let _ = event_loop.call_method1(
            py,
            pyo3::intern!(py, "call_soon_threadsafe"),
            (resolve, future, ok, value),
        );
    });
}
