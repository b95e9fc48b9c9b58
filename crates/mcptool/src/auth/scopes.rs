//! Which scopes an authorization asks for: configured, else the challenge's, else the
//! resource's `scopes_supported`; `offline_access` only where the authorization server lists
//! it; a step-up asks for the union of what was asked, granted and challenged.

use super::challenge::BearerChallenge;
use super::config::Grant;
use super::discovery::Discovered;
use super::layer::Authorizer;

impl Authorizer {
    /// The scopes of a step-up: those asked for before, those granted, and the challenge's.
    pub(super) fn step_up_scopes(&self, challenge: Option<&BearerChallenge>) -> Vec<String> {
        let current = self.current();
        let mut scopes = current.requested.clone();
        let granted = current.tokens.iter().flat_map(|t| t.scopes.iter().cloned());
        let asked = challenge.map(BearerChallenge::scopes).unwrap_or_default();
        for scope in granted.chain(asked) {
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        scopes
    }

    /// Scopes to ask for: configured, else the challenge's, else the resource's
    /// `scopes_supported`, else none; `offline_access` only where the server lists it.
    pub(super) fn select_scopes(
        &self,
        challenge: Option<&BearerChallenge>,
        found: &Discovered,
    ) -> Vec<String> {
        let mut scopes = match (&self.config.scopes, challenge.map(BearerChallenge::scopes)) {
            (Some(configured), _) => configured.clone(),
            (None, Some(asked)) if !asked.is_empty() => asked,
            _ => found.resource_scopes.clone().unwrap_or_default(),
        };
        let offline = "offline_access";
        scopes.retain(|s| s != offline || found.server.lists_scope(offline));
        if self.config.grant == Grant::AuthorizationCode
            && found.server.lists_scope(offline)
            && !scopes.iter().any(|s| s == offline)
        {
            scopes.push(offline.to_owned());
        }
        scopes
    }
}
