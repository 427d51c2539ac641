//! Passwords and the second factor under attack: the same counters, delays and locks for every wrong answer,
//! on both engines, with an explicit clock (no sleeps).

use crate::common::{demo, for_each_demo, test_accounts};
use maillage_app::accounts::{AccountError, AccountRequest, Accounts, Attempt, LoginOutcome};
use maillage_store::{Store, User};
use std::sync::Arc;

const PASSWORD: &str = "un-mot-de-passe-solide";
const START: i64 = 1_800_000_000_000;
const ATTACKER: &str = "203.0.113.66";
const OWNER: &str = "198.51.100.7";

fn from(ip: &str) -> Attempt<'_> {
    Attempt { ip, device: None }
}

/// A new account with TOTP on; returns it and its recovery codes.
async fn account_with_totp(accounts: &Accounts, store: &Arc<dyn Store>) -> (User, Vec<String>) {
    let email = format!("cible-{}@exemple.fr", uuid::Uuid::new_v4().simple());
    let request = AccountRequest {
        email: &email,
        display_name: "Compte cible",
        password: PASSWORD,
        is_platform_admin: false,
        role: None,
    };
    let user = accounts.create(request, START).await.unwrap();
    accounts.begin_totp(&user).await.unwrap();
    let user = store.find_user(user.id).await.unwrap().unwrap();
    let code = code(accounts, &user, START);
    let codes = accounts
        .confirm_totp(&user, &code, &from(OWNER), START)
        .await
        .unwrap();
    let user = store.find_user(user.id).await.unwrap().unwrap();
    (
        user,
        codes.0.into_iter().map(|c| c.expose().clone()).collect(),
    )
}

fn code(accounts: &Accounts, user: &User, now: i64) -> String {
    let secret = accounts
        .keyring()
        .open(
            user.totp_secret.as_deref().unwrap(),
            format!("totp:{}", user.id).as_bytes(),
        )
        .unwrap();
    format!(
        "{:06}",
        maillage_domain::totp::code_at(&secret, now / 1000 / 30)
    )
}

/// A code that is not the account's at `now` (nor at the steps around it).
fn wrong_code(accounts: &Accounts, user: &User, now: i64) -> String {
    let right = code(accounts, user, now);
    (0..1000)
        .map(|n| format!("{:06}", (n * 7919) % 1_000_000))
        .find(|c| {
            *c != right
                && *c != code(accounts, user, now - 30_000)
                && *c != code(accounts, user, now + 30_000)
        })
        .unwrap()
}

async fn challenge(accounts: &Accounts, user: &User, attempt: &Attempt<'_>, now: i64) -> String {
    match accounts.login(&user.email, PASSWORD, attempt, now).await {
        Ok(LoginOutcome::NeedsSecondFactor { challenge, .. }) => challenge.expose().clone(),
        Ok(LoginOutcome::Opened(_)) => panic!("the password alone opened a session"),
        Err(error) => panic!("password refused at {now}: {error:?}"),
    }
}

fn wait_of(result: Result<impl Sized, AccountError>) -> i64 {
    match result {
        Err(AccountError::Throttled { retry_after_secs }) => retry_after_secs,
        Err(other) => panic!("expected a wait, got {other:?}"),
        Ok(_) => panic!("expected a wait, got an answer"),
    }
}

#[tokio::test]
async fn a_second_factor_brute_force_is_slowed_then_locked_like_a_password() {
    for_each_demo(|store, engine| async move {
        let config = &demo().await.1;
        let accounts = test_accounts(&store, config);
        let (user, _) = account_with_totp(&accounts, &store).await;
        let attacker = from(ATTACKER);
        let mut now = START + 60_000;
        let mut failures = 0;
        let mut waits = Vec::new();
        let lock_after = config.security.login_lock_after;
        while failures < lock_after {
            // The attacker knows the password: each login gives a fresh challenge, and clears nothing.
            let challenge = challenge(&accounts, &user, &attacker, now).await;
            let wrong = wrong_code(&accounts, &user, now);
            let answer = accounts
                .complete_second_factor(&challenge, &wrong, &attacker, now)
                .await;
            failures += 1;
            match answer {
                Err(AccountError::BadSecondFactor) => {}
                Err(AccountError::Throttled { retry_after_secs }) => {
                    assert_eq!(
                        failures, lock_after,
                        "{engine}: locked at the password's limit"
                    );
                    assert_eq!(retry_after_secs, config.security.login_lock_minutes * 60);
                    break;
                }
                other => panic!("{engine}: wrong code answered {:?}", other.err()),
            }
            if failures >= 3 {
                // Inside the delay, even the right password is refused before any code is read.
                let early = accounts.login(&user.email, PASSWORD, &attacker, now).await;
                let wait = wait_of(early);
                waits.push(wait);
                now += wait * 1000;
            } else {
                now += 1;
            }
        }
        assert_eq!(failures, lock_after, "{engine}");
        assert_eq!(
            waits,
            vec![1, 2, 4, 8, 16, 32, 60],
            "{engine}: progressive delay"
        );
        // Locked: neither the password nor the right code opens, for the lock's whole length.
        now += 60_000;
        let wait = wait_of(accounts.login(&user.email, PASSWORD, &attacker, now).await);
        assert!(wait > 60 * 13, "{engine}: still locked ({wait} s)");
        // The lock lifts after its time, and the right code then opens a session.
        now += wait * 1000;
        let challenge = challenge(&accounts, &user, &attacker, now).await;
        let right = code(&accounts, &user, now);
        accounts
            .complete_second_factor(&challenge, &right, &attacker, now)
            .await
            .unwrap_or_else(|e| panic!("{engine}: right code after the lock: {e:?}"));
    })
    .await;
}

#[tokio::test]
async fn a_lock_from_elsewhere_does_not_keep_the_accounts_own_devices_out() {
    for_each_demo(|store, engine| async move {
        let config = &demo().await.1;
        let accounts = test_accounts(&store, config);
        let (user, _) = account_with_totp(&accounts, &store).await;
        // The owner logs in once from their browser: it becomes a known device.
        let mut now = START + 60_000;
        let first = challenge(&accounts, &user, &from(OWNER), now).await;
        let opened = accounts
            .complete_second_factor(&first, &code(&accounts, &user, now), &from(OWNER), now)
            .await
            .unwrap();
        let device = opened.device.expose().clone();
        // Someone else sprays wrong passwords until the account locks.
        for _ in 0..config.security.login_lock_after {
            now += 61_000;
            let _ = accounts
                .login(&user.email, "devine-devine", &from(ATTACKER), now)
                .await;
        }
        now += 1_000;
        let locked = accounts
            .login(&user.email, PASSWORD, &from("192.0.2.50"), now)
            .await;
        assert!(wait_of(locked) > 60, "{engine}: a new device is locked out");
        // The owner's browser, even from a new address, still gets in with password and code.
        let owner = Attempt {
            ip: "192.0.2.51",
            device: Some(&device),
        };
        now += 30_000;
        let challenge = challenge(&accounts, &user, &owner, now).await;
        accounts
            .complete_second_factor(&challenge, &code(&accounts, &user, now), &owner, now)
            .await
            .unwrap_or_else(|e| panic!("{engine}: the known device is kept out: {e:?}"));
        // A made-up device token is no key.
        let forged = Attempt {
            ip: ATTACKER,
            device: Some("00000000000000000000000000000000000000000000000000000000000000aa"),
        };
        let refused = accounts
            .login(&user.email, PASSWORD, &forged, now + 1)
            .await;
        assert!(wait_of(refused) > 60, "{engine}");
    })
    .await;
}

#[tokio::test]
async fn recovery_codes_work_once_and_have_their_own_lock() {
    for_each_demo(|store, engine| async move {
        let config = &demo().await.1;
        let accounts = test_accounts(&store, config);
        let (user, codes) = account_with_totp(&accounts, &store).await;
        assert_eq!(
            codes.len(),
            maillage_app::accounts::RECOVERY_CODES,
            "{engine}"
        );
        assert_eq!(accounts.recovery_codes_left(user.id).await.unwrap(), 10);
        let mut now = START + 60_000;
        let owner = from(OWNER);
        let challenge_1 = challenge(&accounts, &user, &owner, now).await;
        // Typed in lower case with spaces: still the code.
        let typed = codes[0].to_lowercase().replace('-', " ");
        accounts
            .complete_second_factor(&challenge_1, &typed, &owner, now)
            .await
            .unwrap_or_else(|e| panic!("{engine}: recovery code refused: {e:?}"));
        assert_eq!(accounts.recovery_codes_left(user.id).await.unwrap(), 9);
        now += 1_000;
        let challenge_2 = challenge(&accounts, &user, &owner, now).await;
        let reused = accounts
            .complete_second_factor(&challenge_2, &codes[0], &owner, now)
            .await;
        assert!(
            matches!(reused, Err(AccountError::BadSecondFactor)),
            "{engine}: single use"
        );
        // Wrong recovery codes from many addresses lock recovery itself after five.
        let mut locked_at = None;
        for n in 0..8 {
            now += 120_000;
            let ip = format!("192.0.2.{}", 100 + n);
            let attempt = from(&ip);
            let challenge = challenge(&accounts, &user, &attempt, now).await;
            let answer = accounts
                .complete_second_factor(&challenge, "ZZZZ-ZZZZ-ZZZZ", &attempt, now)
                .await;
            if let Err(AccountError::Throttled { .. }) = answer {
                locked_at = Some(n + 1);
                break;
            }
        }
        assert_eq!(
            locked_at,
            Some(4),
            "{engine}: 1 reuse + 4 wrong = 5 wrong recovery codes"
        );
        // Locked recovery refuses even a good code; the app's code still works.
        now += 10_000;
        let challenge_3 = challenge(&accounts, &user, &owner, now).await;
        let refused = accounts
            .complete_second_factor(&challenge_3, &codes[1], &owner, now)
            .await;
        assert!(wait_of(refused) > 0, "{engine}");
        let challenge_4 = challenge(&accounts, &user, &owner, now + 30_000).await;
        accounts
            .complete_second_factor(
                &challenge_4,
                &code(&accounts, &user, now + 30_000),
                &owner,
                now + 30_000,
            )
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e:?}"));
        // Turning the factor off voids the codes.
        let user = store.find_user(user.id).await.unwrap().unwrap();
        accounts
            .disable_totp(
                &user,
                &code(&accounts, &user, now + 60_000),
                &owner,
                now + 60_000,
            )
            .await
            .unwrap();
        assert_eq!(
            accounts.recovery_codes_left(user.id).await.unwrap(),
            0,
            "{engine}"
        );
    })
    .await;
}
