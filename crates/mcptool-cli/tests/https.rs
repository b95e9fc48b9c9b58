//! HTTPS end to end through an owned pool: `mcptool` against the strict server behind a TLS
//! front on 127.0.0.1, with a throwaway certificate that the child trusts only through
//! `SSL_CERT_FILE` (read by the platform verifier on Linux). Without it the certificate is
//! refused, at once and with an error that says so.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use support::{Served, TempDir, mcptool, mcptool_with_env, temp_dir};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A TLS front on 127.0.0.1 that forwards every connection to `backend`; it serves on a
/// thread of its own until the test process ends. Returns its port and the directory that
/// holds the certificate's PEM file, `cert.pem`.
fn tls_front(backend: SocketAddr) -> (u16, TempDir) {
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).expect("certificate");
    let dir = temp_dir("https");
    let pem = dir.path().join("cert.pem");
    std::fs::write(&pem, cert.cert.pem()).expect("write the certificate");
    let chain = vec![CertificateDer::from(cert.cert.der().to_vec())];
    let key = PrivateKeyDer::try_from(cert.signing_key.serialize_der()).expect("key");
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server config");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = TcpListener::from_std(listener).expect("listener");
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let Ok(mut plain) = TcpStream::connect(backend).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
    });
    (port, dir)
}

fn backend_addr(served: &Served) -> SocketAddr {
    let rest = served.url.trim_start_matches("http://");
    let host_port = rest.split('/').next().expect("host:port");
    host_port.parse().expect("socket address")
}

#[test]
fn tools_are_listed_and_called_over_https_with_a_trusted_certificate() {
    let served = Served::start(&[]);
    let (port, dir) = tls_front(backend_addr(&served));
    let url = format!("https://127.0.0.1:{port}/mcp");
    let pem = dir.path().join("cert.pem");
    let trust = [("SSL_CERT_FILE", pem.to_str().expect("utf-8 path"))];

    let listed = mcptool_with_env(&["--url", &url, "--json", "tools"], &trust);
    listed.expect_code(0);
    let tools = listed.json();
    let names: Vec<&str> = tools["tools"]
        .as_array()
        .expect("tools array")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(names.contains(&"echo"), "{names:?}");

    let called = mcptool_with_env(
        &["--url", &url, "--json", "call", "echo", "message=over tls"],
        &trust,
    );
    called.expect_code(0);
    assert_eq!(called.json()["content"][0]["text"], "over tls");
}

#[test]
fn an_untrusted_certificate_is_refused() {
    let served = Served::start(&[]);
    let (port, _dir) = tls_front(backend_addr(&served));
    let url = format!("https://127.0.0.1:{port}/mcp");
    let refused = mcptool(&["--url", &url, "tools"]);
    assert_ne!(refused.code, 0, "an untrusted certificate was accepted");
    let said = &refused.stderr;
    assert!(
        said.contains("TLS handshake failed") && said.contains("certificate"),
        "the error should say the handshake failed on the certificate: {said}"
    );
    assert!(!said.contains("is the server running"), "{said}");
}
