//! Reading and writing the cookies Maillage uses: the session, the pre-login CSRF token, and the device token
//! that tells a browser which already completed a login for an account (it is exempt from the account-wide
//! lock that failures from elsewhere trigger).

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};

pub const SESSION: &str = "maillage_session";
pub const LOGIN_CSRF: &str = "maillage_csrf";
pub const DEVICE: &str = "maillage_appareil";

pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
        .filter(|value| !value.is_empty() && value.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// `HttpOnly; SameSite=Strict; Path=/`, plus `Secure` when served over TLS. `max_age` None: session cookie.
pub fn set(headers: &mut HeaderMap, name: &str, value: &str, secure: bool, max_age: Option<i64>) {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if secure {
        cookie.push_str("; Secure");
    }
    if let Some(seconds) = max_age {
        cookie.push_str(&format!("; Max-Age={seconds}"));
    }
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        headers.append(SET_COOKIE, value);
    }
}

pub fn clear(headers: &mut HeaderMap, name: &str, secure: bool) {
    set(headers, name, "", secure, Some(0));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_well_formed_values() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; maillage_session=abc123; b=2"),
        );
        assert_eq!(read(&headers, SESSION).as_deref(), Some("abc123"));
        assert_eq!(read(&headers, "absent"), None);
        headers.insert(COOKIE, HeaderValue::from_static("maillage_session=a%20b"));
        assert_eq!(read(&headers, SESSION), None);
    }

    #[test]
    fn cookies_are_http_only_and_strict() {
        let mut headers = HeaderMap::new();
        set(&mut headers, SESSION, "tok", true, None);
        let value = headers.get(SET_COOKIE).unwrap().to_str().unwrap();
        assert!(
            value.contains("HttpOnly")
                && value.contains("SameSite=Strict")
                && value.contains("Secure")
        );
    }
}
