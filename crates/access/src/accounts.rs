//! Account operations over a [`Store`]: agencies, users, service tokens, TOTP enrolment, and
//! sign-in with lockout. The CLI and the server both call these, so a rule (a privileged role
//! needs a second factor, a service account may not be privileged, five failures lock an
//! account) is written once.
//!
//! Times are given by the caller: `now` as Unix seconds for arithmetic (lockout) and
//! `now_rfc3339` for the rows, both read from the caller's `Clock`.

use crate::password;
use crate::policy::{Principal, PrincipalKind};
use crate::token;
use crate::totp;
use std::sync::OnceLock;
use tracemark_domain::account::{
    AccountError, AccountName, AgencyKind, AgencyName, Role, ServiceName,
};
use tracemark_store::{AgencyRow, Store, StoreError, TokenRow, UserRow};

/// Consecutive failed sign-ins after which an account is locked.
pub const LOCKOUT_AFTER: u32 = 5;
/// The first lockout lasts this long; each further failure doubles it, up to [`LOCKOUT_MAX`].
pub const LOCKOUT_BASE_SECONDS: i64 = 60;
pub const LOCKOUT_MAX_SECONDS: i64 = 3600;

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error(transparent)]
    Invalid(#[from] AccountError),
    #[error(transparent)]
    Password(#[from] password::PasswordError),
    #[error("a service account may not hold the privileged role {0}: it has no second factor")]
    PrivilegedService(Role),
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Totp(#[from] totp::TotpError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a sign-in failed. The messages are safe to show: they never say whether the account
/// exists or which of name and password was wrong.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("unknown account or wrong password")]
    BadCredentials,
    #[error("too many failed sign-ins: try again in {retry_after} s")]
    Locked { retry_after: i64 },
    #[error("this account signs in with a TOTP code: send `totp`")]
    CodeRequired,
    #[error("the TOTP code is wrong or expired")]
    BadCode,
    #[error("this TOTP code was already used: wait for the next one")]
    CodeReplayed,
    #[error("the role {0} requires a second factor and this account has none: an administrator on the node runs `tracemark user totp NAME` (see README)")]
    EnrolmentRequired(Role),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the account's stored data is damaged: {0}")]
    Damaged(String),
}

/// Adds an agency. Its holdings are the items whose current holder has `holder_name`
/// and/or `holder_kind` (an actor kind of the interchange format, e.g. `armed_forces`);
/// need-to-know needs at least one of them.
pub fn add_agency(
    store: &mut dyn Store,
    name: &str,
    kind: &str,
    holder_name: Option<&str>,
    holder_kind: Option<&str>,
    need_to_know: bool,
    now_rfc3339: &str,
) -> Result<AgencyRow, AccountsError> {
    let name = AgencyName::parse(name)?;
    let kind = AgencyKind::parse(kind)?;
    let holder_name = holder_name.map(str::trim).filter(|s| !s.is_empty());
    let holder_kind = holder_kind.map(str::trim).filter(|s| !s.is_empty());
    if let Some(k) = holder_kind {
        if tracemark_domain::model::ActorKind::parse(k).is_none() {
            return Err(AccountsError::Refused(format!(
                "holder kind '{}' is not one of: {}",
                k.chars().take(40).collect::<String>(),
                tracemark_domain::model::ActorKind::expected()
            )));
        }
    }
    if need_to_know && holder_name.is_none() && holder_kind.is_none() {
        return Err(AccountsError::Refused(
            "need-to-know applies to the items an agency holds: say which holders are its own (--holder-name as its records name it, and/or --holder-kind, e.g. armed_forces)".into(),
        ));
    }
    let row = AgencyRow {
        name: name.to_string(),
        kind: kind.as_str().to_owned(),
        holder_name: holder_name.map(str::to_owned),
        holder_kind: holder_kind.map(str::to_owned),
        need_to_know,
        created_at: now_rfc3339.to_owned(),
    };
    store.insert_agency(&row)?;
    Ok(row)
}

pub fn add_user(
    store: &mut dyn Store,
    name: &str,
    agency: &str,
    role: &str,
    password: &str,
    now_rfc3339: &str,
) -> Result<UserRow, AccountsError> {
    let name = AccountName::parse(name)?;
    let agency = AgencyName::parse(agency)?;
    let role = Role::parse(role)?;
    let row = UserRow {
        name: name.to_string(),
        agency: agency.to_string(),
        role: role.as_str().to_owned(),
        password_hash: password::hash_password(password)?,
        totp_secret: None,
        totp_verified: false,
        failed_logins: 0,
        locked_until: None,
        created_at: now_rfc3339.to_owned(),
    };
    store.insert_user(&row)?;
    Ok(row)
}

/// Creates a service account's token; returns the row and the token to show once.
pub fn create_token(
    store: &mut dyn Store,
    service: &str,
    agency: &str,
    role: &str,
    now_rfc3339: &str,
) -> Result<(TokenRow, String), AccountsError> {
    let service = ServiceName::parse(service)?;
    let agency = AgencyName::parse(agency)?;
    let role = Role::parse(role)?;
    if role.is_privileged() {
        return Err(AccountsError::PrivilegedService(role));
    }
    if !store.agencies()?.iter().any(|a| a.name == agency.as_str()) {
        return Err(StoreError::Missing(format!("agency '{agency}'")).into());
    }
    let t = token::generate();
    let row = TokenRow {
        id: t.id.clone(),
        service: service.to_string(),
        agency: agency.to_string(),
        role: role.as_str().to_owned(),
        secret_sha256: t.secret_sha256,
        created_at: now_rfc3339.to_owned(),
        revoked_at: None,
    };
    store.insert_token(&row)?;
    Ok((row, t.token))
}

/// Starts TOTP enrolment with a fresh secret (replacing any other) and returns the
/// `otpauth://` URL. Enrolment is finished by the first sign-in with a valid code.
pub fn enrol_totp(store: &mut dyn Store, name: &str) -> Result<String, AccountsError> {
    let name = AccountName::parse(name)?;
    if store.user(name.as_str())?.is_none() {
        return Err(StoreError::Missing(format!("user '{name}'")).into());
    }
    let secret = totp::new_secret();
    let url = totp::otpauth_url(&secret, name.as_str())?;
    store.set_totp(name.as_str(), Some(&secret), false)?;
    Ok(url)
}

fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(password::dummy_hash)
}

/// Records a failed attempt and locks the account after [`LOCKOUT_AFTER`] of them.
fn fail(store: &mut dyn Store, user: &UserRow, now: i64, why: LoginError) -> LoginError {
    let failures = user.failed_logins.saturating_add(1);
    let locked_until = (failures >= LOCKOUT_AFTER).then(|| {
        let doublings = (failures - LOCKOUT_AFTER).min(16);
        now + (LOCKOUT_BASE_SECONDS << doublings).min(LOCKOUT_MAX_SECONDS)
    });
    match store.set_login_state(&user.name, failures, locked_until) {
        Ok(()) => why,
        Err(e) => LoginError::Store(e),
    }
}

/// Checks a person's credentials: password, then (when enrolled or required) a TOTP code,
/// which is spent (a second use of it fails). On success the failure count is reset.
pub fn login(
    store: &mut dyn Store,
    name: &str,
    password: &str,
    code: Option<&str>,
    now: i64,
) -> Result<Principal, LoginError> {
    let user = match AccountName::parse(name) {
        Ok(n) => store.user(n.as_str())?,
        Err(_) => None,
    };
    let Some(user) = user else {
        // Same work as for a real account, so timing does not reveal which names exist.
        let _ = password::verify_password(dummy_hash(), password);
        return Err(LoginError::BadCredentials);
    };
    if let Some(until) = user.locked_until {
        if now < until {
            return Err(LoginError::Locked {
                retry_after: until - now,
            });
        }
    }
    if !password::verify_password(&user.password_hash, password) {
        return Err(fail(store, &user, now, LoginError::BadCredentials));
    }
    let role = Role::parse(&user.role).map_err(|e| LoginError::Damaged(e.to_string()))?;
    let mut mfa = false;
    match (&user.totp_secret, code) {
        (None, _) if role.is_privileged() => return Err(LoginError::EnrolmentRequired(role)),
        (None, _) => {}
        (Some(_), None) if user.totp_verified || role.is_privileged() => {
            return Err(LoginError::CodeRequired)
        }
        (Some(_), None) => {}
        (Some(secret), Some(code)) => {
            let step = totp::matching_step(secret, code.trim(), now.max(0) as u64)
                .map_err(|e| LoginError::Damaged(e.to_string()))?;
            let Some(step) = step else {
                return Err(fail(store, &user, now, LoginError::BadCode));
            };
            if !store.use_totp_step(&user.name, step)? {
                return Err(fail(store, &user, now, LoginError::CodeReplayed));
            }
            if !user.totp_verified {
                store.set_totp(&user.name, Some(secret), true)?;
            }
            mfa = true;
        }
    }
    if user.failed_logins != 0 || user.locked_until.is_some() {
        store.set_login_state(&user.name, 0, None)?;
    }
    Ok(Principal {
        kind: PrincipalKind::User,
        name: user.name,
        agency: user.agency,
        role,
        mfa,
    })
}

/// Why a bearer token was refused. One message for all: a prober learns nothing.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the bearer token is not valid (unknown, revoked or malformed)")]
    Invalid,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub fn authenticate_token(store: &dyn Store, bearer: &str) -> Result<Principal, TokenError> {
    let presented = token::parse(bearer).ok_or(TokenError::Invalid)?;
    let row = store.token(presented.id)?.ok_or(TokenError::Invalid)?;
    if row.revoked_at.is_some() || !presented.matches(&row.secret_sha256) {
        return Err(TokenError::Invalid);
    }
    let role = Role::parse(&row.role).map_err(|_| TokenError::Invalid)?;
    Ok(Principal {
        kind: PrincipalKind::Service,
        name: row.service,
        agency: row.agency,
        role,
        mfa: false,
    })
}
