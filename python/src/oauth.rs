//! `mcptool.OAuth`: how a client or tool gets tokens for a protected server. It holds the
//! settings only; each instance that uses it makes its own core `OAuth` (and so its own token
//! store) at construction, with its authorize callback bound to that instance's event loop.

use std::sync::Arc;

use mcptool::{LoopbackBrowser, OAuth, PrivateKey};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::callbacks::{self, Callable, LoopSlot};
use crate::errors::to_py_err;

#[derive(Debug)]
enum Grant {
    ClientCredentials {
        client_id: String,
    },
    AuthorizationCode {
        authorize: Callable,
        redirect_uri: String,
    },
    Browser,
}

/// OAuth 2.1 settings for a protected server.
#[pyclass(name = "OAuth", module = "mcptool._native", frozen)]
#[derive(Debug)]
pub(crate) struct PyOAuth {
    grant: Grant,
    client_id: Option<String>,
    client_secret: Option<String>,
    private_key: Option<Vec<u8>>,
    scopes: Option<Vec<String>>,
    issuer: Option<String>,
    client_metadata_url: Option<String>,
}

#[pymethods]
impl PyOAuth {
    /// The client credentials grant (machine to machine), with a secret or a private key.
    #[staticmethod]
    #[pyo3(signature = (client_id, *, client_secret=None, private_key_pem=None, scopes=None, issuer=None))]
    fn client_credentials(
        client_id: String,
        client_secret: Option<String>,
        private_key_pem: Option<Bound<'_, PyAny>>,
        scopes: Option<Vec<String>>,
        issuer: Option<String>,
    ) -> PyResult<PyOAuth> {
        let private_key = match private_key_pem {
            None => None,
            Some(pem) => Some(match pem.extract::<String>() {
                Ok(text) => text.into_bytes(),
                Err(_) => pem.extract::<Vec<u8>>()?,
            }),
        };
        if client_secret.is_none() && private_key.is_none() {
            return Err(PyValueError::new_err(
                "client_credentials needs client_secret or private_key_pem",
            ));
        }
        Ok(PyOAuth {
            grant: Grant::ClientCredentials { client_id },
            client_id: None,
            client_secret,
            private_key,
            scopes,
            issuer,
            client_metadata_url: None,
        })
    }

    /// The authorization code grant with PKCE; `authorize(url)` sends the user to the
    /// authorization URL and returns the redirect URL they came back with.
    #[staticmethod]
    #[pyo3(signature = (authorize, *, redirect_uri, client_id=None, client_secret=None, scopes=None, client_metadata_url=None))]
    fn authorization_code(
        authorize: Py<PyAny>,
        redirect_uri: String,
        client_id: Option<String>,
        client_secret: Option<String>,
        scopes: Option<Vec<String>>,
        client_metadata_url: Option<String>,
    ) -> PyOAuth {
        PyOAuth {
            grant: Grant::AuthorizationCode {
                authorize: Arc::new(authorize),
                redirect_uri,
            },
            client_id,
            client_secret,
            private_key: None,
            scopes,
            issuer: None,
            client_metadata_url,
        }
    }

    /// The system browser and a loopback redirect on 127.0.0.1.
    #[staticmethod]
    #[pyo3(signature = (*, scopes=None, client_id=None))]
    fn browser(scopes: Option<Vec<String>>, client_id: Option<String>) -> PyOAuth {
        PyOAuth {
            grant: Grant::Browser,
            client_id,
            client_secret: None,
            private_key: None,
            scopes,
            issuer: None,
            client_metadata_url: None,
        }
    }

    fn __repr__(&self) -> String {
        let grant = match &self.grant {
            Grant::ClientCredentials { .. } => "client_credentials",
            Grant::AuthorizationCode { .. } => "authorization_code",
            Grant::Browser => "browser",
        };
        format!("OAuth.{grant}(...)")
    }
}

impl PyOAuth {
    /// The core's `OAuth` for one instance, whose async authorize runs on `slot`'s loop.
    pub(crate) fn to_core(&self, slot: &LoopSlot) -> PyResult<OAuth> {
        let mut oauth = match &self.grant {
            Grant::ClientCredentials { client_id } => OAuth::client_credentials(client_id.clone()),
            Grant::AuthorizationCode {
                authorize,
                redirect_uri,
            } => OAuth::authorization_code_with(mcptool::authorization_handler(
                redirect_uri.clone(),
                callbacks::authorize(Arc::clone(authorize), slot.clone()),
            )),
            Grant::Browser => OAuth::authorization_code(LoopbackBrowser::new()),
        };
        if let Some(id) = &self.client_id {
            oauth = oauth.client_id(id.clone());
        }
        if let Some(secret) = &self.client_secret {
            oauth = oauth.client_secret(secret.clone());
        }
        if let Some(pem) = &self.private_key {
            oauth = oauth.private_key(PrivateKey::from_pem(pem).map_err(|e| to_py_err(&e))?);
        }
        if let Some(scopes) = &self.scopes {
            oauth = oauth.scopes(scopes.iter().cloned());
        }
        if let Some(issuer) = &self.issuer {
            oauth = oauth.client_issuer(issuer.clone());
        }
        if let Some(url) = &self.client_metadata_url {
            oauth = oauth.client_metadata_url(url.clone());
        }
        Ok(oauth)
    }
}
