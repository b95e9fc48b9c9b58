//! Which protocol era a connected client found, in words for people (`-v`, `check`).

use mcptool::Client;
use mcptool::protocol::ProtocolVersion;

/// The era a connected client speaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Era {
    /// 2026-07-28: no handshake, no session.
    Stateless,
    /// The session era over Streamable HTTP, with the negotiated version and the session id
    /// (redacted: its first characters only, as ids are credentials of a kind).
    Session {
        version: ProtocolVersion,
        session: Option<String>,
    },
    /// The legacy HTTP+SSE transport (2024-11-05).
    Legacy { version: ProtocolVersion },
}

impl Era {
    /// What `client` found when it connected.
    pub(crate) fn of(client: &Client) -> Era {
        let version = client
            .protocol_version()
            .unwrap_or(ProtocolVersion::V2025_03_26);
        if version == ProtocolVersion::V2026_07_28 {
            Era::Stateless
        } else if client.is_legacy_transport() {
            Era::Legacy { version }
        } else {
            Era::Session {
                version,
                session: client.session_id().map(|id| id.to_string()),
            }
        }
    }

    /// The version to pin so that later clients speak this era without probing again.
    pub(crate) fn version(&self) -> ProtocolVersion {
        match self {
            Era::Stateless => ProtocolVersion::V2026_07_28,
            Era::Session { version, .. } | Era::Legacy { version } => *version,
        }
    }

    /// `2026-07-28 (stateless, no session)`, `2025-11-25 (session 1a2b3c4d…)`...
    pub(crate) fn describe(&self) -> String {
        match self {
            Era::Stateless => format!("{} (stateless, no session)", self.version().as_str()),
            Era::Session {
                version,
                session: Some(id),
            } => format!("{} (session {id})", version.as_str()),
            Era::Session {
                version,
                session: None,
            } => format!("{} (no session id)", version.as_str()),
            Era::Legacy { version } => {
                format!("{} (legacy HTTP+SSE transport)", version.as_str())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_era_reads_as_the_report_prints_it() {
        assert_eq!(
            Era::Stateless.describe(),
            "2026-07-28 (stateless, no session)"
        );
        let session = Era::Session {
            version: ProtocolVersion::V2025_11_25,
            session: Some("1a2b3c4d…".to_owned()),
        };
        assert_eq!(session.describe(), "2025-11-25 (session 1a2b3c4d…)");
        let legacy = Era::Legacy {
            version: ProtocolVersion::V2024_11_05,
        };
        assert_eq!(legacy.describe(), "2024-11-05 (legacy HTTP+SSE transport)");
        assert_eq!(legacy.version(), ProtocolVersion::V2024_11_05);
    }
}
