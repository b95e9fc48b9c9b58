//! Faults for one request: the global knobs plus the `mcptool-fault` header.

use std::time::Duration;

use http::HeaderMap;

use crate::config::Faults;

/// The request header that triggers faults when [`Faults::enabled`] is set.
pub(crate) const FAULT_HEADER: &str = "mcptool-fault";

/// The faults that apply to one request.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RequestFaults {
    pub(crate) cut_after: Option<usize>,
    pub(crate) close: bool,
    pub(crate) status_500: bool,
    pub(crate) delay: Option<Duration>,
    pub(crate) expire: bool,
}

impl RequestFaults {
    pub(crate) fn new(faults: &Faults, headers: &HeaderMap) -> Self {
        let mut out = Self {
            cut_after: faults.cut_sse_after_events,
            close: faults.close_mid_response,
            status_500: faults.status_500,
            delay: faults.delay,
            expire: false,
        };
        if !faults.enabled {
            return out;
        }
        for value in headers.get_all(FAULT_HEADER) {
            let Ok(value) = value.to_str() else { continue };
            for item in value.split([',', ';']).map(str::trim) {
                let (key, arg) = item
                    .split_once('=')
                    .map_or((item, ""), |(k, v)| (k.trim(), v.trim()));
                match key {
                    "cut-after" => out.cut_after = arg.parse().ok().or(out.cut_after),
                    "close" => out.close = true,
                    "status" if arg == "500" => out.status_500 = true,
                    "delay-ms" => {
                        out.delay = arg.parse().ok().map(Duration::from_millis).or(out.delay)
                    }
                    "expire" => out.expire = true,
                    _ => tracing::debug!(item, "unknown fault directive"),
                }
            }
        }
        out
    }
}
