use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// A protocol revision this client speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ProtocolVersion {
    /// `2024-11-05`: the HTTP+SSE generation, spoken only after a legacy fallback.
    V2024_11_05,
    /// `2025-03-26`: the first Streamable HTTP revision (batches allowed).
    V2025_03_26,
    /// `2025-06-18`: adds the `MCP-Protocol-Version` header and structured tool output.
    V2025_06_18,
    /// `2025-11-25`: priming events and `retry` for SSE resumption.
    V2025_11_25,
    /// `2026-07-28`: stateless, no `initialize` and no session; spoken by a client built with
    /// [`ProtocolEra::Stateless`](crate::ProtocolEra::Stateless), never offered at `initialize`.
    V2026_07_28,
}

impl ProtocolVersion {
    /// Every revision we support, oldest first.
    pub const ALL: [ProtocolVersion; 5] = [
        ProtocolVersion::V2024_11_05,
        ProtocolVersion::V2025_03_26,
        ProtocolVersion::V2025_06_18,
        ProtocolVersion::V2025_11_25,
        ProtocolVersion::V2026_07_28,
    ];

    /// The newest session-era revision, offered by default at `initialize`.
    pub const LATEST: ProtocolVersion = ProtocolVersion::V2025_11_25;

    /// The revision's date string as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ProtocolVersion::V2024_11_05 => "2024-11-05",
            ProtocolVersion::V2025_03_26 => "2025-03-26",
            ProtocolVersion::V2025_06_18 => "2025-06-18",
            ProtocolVersion::V2025_11_25 => "2025-11-25",
            ProtocolVersion::V2026_07_28 => "2026-07-28",
        }
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProtocolVersion {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        ProtocolVersion::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                Error::config(format!(
                    "unsupported protocol version {s:?} (supported: 2024-11-05, 2025-03-26, 2025-06-18, 2025-11-25, 2026-07-28)"
                ))
            })
    }
}
