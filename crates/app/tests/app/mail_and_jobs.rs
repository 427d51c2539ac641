//! E-mail through a real SMTP listener, the outbox when no server is configured, and job retries.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should stop the test

use maillage_app::config::{JobsConfig, SmtpConfig, SmtpTls};
use maillage_app::jobs::JobRunner;
use maillage_app::mail::{self, EmailJob, Mailer, OutgoingMail, EMAIL_JOB};
use maillage_store::testing::TestDatabase;
use maillage_store::{JobStatus, Page, Store};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// A small SMTP server: answers the commands of a plain session and hands over each received message.
/// `data_reply` is what it answers at the end of DATA (`250 …` accepts, `550 …` refuses for good,
/// `451 …` asks to try later).
async fn smtp_listener(data_reply: &'static str) -> (u16, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let sender = sender.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 test.local ESMTP\r\n").await.unwrap();
                let mut in_data = false;
                let mut message = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            sender.send(std::mem::take(&mut message)).unwrap();
                            write
                                .write_all(format!("{data_reply}\r\n").as_bytes())
                                .await
                                .unwrap();
                        } else {
                            message.push_str(&line);
                            message.push('\n');
                        }
                        continue;
                    }
                    let verb = line
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250-test.local\r\n250 8BITMIME\r\n",
                        "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n",
                        "DATA" => {
                            in_data = true;
                            b"354 End data with <CR><LF>.<CR><LF>\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 Bye\r\n").await.unwrap();
                            break;
                        }
                        _ => b"502 Command not implemented\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, receiver)
}

fn smtp_config(port: u16) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        tls: SmtpTls::None,
        from: "CPTS Test <cpts@exemple.fr>".into(),
        ..SmtpConfig::default()
    }
}

/// The keys of these tests' job payloads and outbox.
fn keyring() -> Arc<maillage_app::crypto::Keyring> {
    static KEYRING: std::sync::OnceLock<Arc<maillage_app::crypto::Keyring>> =
        std::sync::OnceLock::new();
    KEYRING
        .get_or_init(|| {
            Arc::new(
                maillage_app::config::Config::default()
                    .with_new_keys()
                    .keyring()
                    .unwrap(),
            )
        })
        .clone()
}

fn runner(store: Arc<dyn Store>, mailer: Mailer) -> JobRunner {
    let mut runner = JobRunner::new(
        store.clone(),
        keyring(),
        JobsConfig {
            max_attempts: 3,
            ..JobsConfig::default()
        },
    );
    runner.register(
        EMAIL_JOB,
        Arc::new(EmailJob {
            mailer: Arc::new(mailer),
            store,
            keyring: keyring(),
        }),
    );
    runner
}

fn welcome() -> OutgoingMail {
    OutgoingMail {
        to: "dr.exemple@exemple.fr".into(),
        subject: "Bienvenue dans la CPTS".into(),
        body: "Bonjour,\nvotre compte est prêt.".into(),
        cpts_id: None,
    }
}

async fn store() -> (TestDatabase, Arc<dyn Store>) {
    let database = TestDatabase::sqlite().await.unwrap();
    let store = maillage_store::open(&database.url).await.unwrap();
    (database, store)
}

#[tokio::test]
async fn a_queued_email_reaches_the_smtp_server() {
    let (_db, store) = store().await;
    let (port, mut received) = smtp_listener("250 Queued").await;
    let runner = runner(
        store.clone(),
        Mailer::from_config(&smtp_config(port)).unwrap(),
    );
    let job = mail::queue(store.as_ref(), &keyring(), &welcome(), 3)
        .await
        .unwrap();
    assert!(runner.run_once(0).await.unwrap());
    let message = received.recv().await.unwrap();
    assert!(
        message.contains("Subject: Bienvenue dans la CPTS"),
        "{message}"
    );
    assert!(message.contains("To: dr.exemple@exemple.fr"), "{message}");
    assert_eq!(
        store.find_job(job).await.unwrap().unwrap().status,
        JobStatus::Done
    );
    assert_eq!(store.count_outbox().await.unwrap(), 0);
}

#[tokio::test]
async fn a_temporary_smtp_refusal_is_retried_later_and_a_permanent_one_is_not() {
    let (_db, store) = store().await;
    let (port, mut received) = smtp_listener("451 Try again later").await;
    let runner_soft = runner(
        store.clone(),
        Mailer::from_config(&smtp_config(port)).unwrap(),
    );
    let job = mail::queue(store.as_ref(), &keyring(), &welcome(), 3)
        .await
        .unwrap();
    assert!(runner_soft.run_once(0).await.unwrap());
    received.recv().await.unwrap();
    let after = store.find_job(job).await.unwrap().unwrap();
    assert_eq!(after.status, JobStatus::Queued);
    assert!(
        after.run_at > maillage_app::clock::now_ms() + 20_000,
        "backoff"
    );
    assert!(after.last_error.unwrap().contains("SMTP"));

    let (port, mut received) = smtp_listener("550 Mailbox unavailable").await;
    let runner_hard = runner(
        store.clone(),
        Mailer::from_config(&smtp_config(port)).unwrap(),
    );
    let job = mail::queue(store.as_ref(), &keyring(), &welcome(), 3)
        .await
        .unwrap();
    assert!(runner_hard.run_once(1).await.unwrap());
    received.recv().await.unwrap();
    assert_eq!(
        store.find_job(job).await.unwrap().unwrap().status,
        JobStatus::Failed
    );
}

#[tokio::test]
async fn without_smtp_emails_land_in_the_outbox() {
    let (_db, store) = store().await;
    let mailer = Mailer::from_config(&SmtpConfig::default()).unwrap();
    assert!(mailer.uses_outbox());
    let runner = runner(store.clone(), mailer);
    mail::queue(store.as_ref(), &keyring(), &welcome(), 3)
        .await
        .unwrap();
    assert!(runner.run_once(0).await.unwrap());
    assert!(!runner.run_once(0).await.unwrap(), "nothing left");
    let outbox = store.list_outbox(Page::first(10)).await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].subject, "Bienvenue dans la CPTS");
    // Recipient and body are sealed; the administrators' page masks the address.
    assert!(!outbox[0].recipient.contains("exemple") && !outbox[0].body.contains("compte"));
    let read = mail::read_outbox(store.as_ref(), &keyring(), Page::first(10), false)
        .await
        .unwrap();
    assert_eq!(read[0].recipient, "d…@exemple.fr");
    assert!(read[0].body.contains("votre compte est prêt"));
    let demo = mail::read_outbox(store.as_ref(), &keyring(), Page::first(10), true)
        .await
        .unwrap();
    assert_eq!(demo[0].recipient, "dr.exemple@exemple.fr");
    // After the keeping delay, only the subject and the date are left.
    let later = outbox[0].created_at + 31 * 24 * 3_600_000;
    maillage_app::jobs::Retention {
        outbox_keep_days: 30,
        jobs_keep_days: 30,
    }
    .apply(store.as_ref(), later)
    .await;
    let reduced = store.list_outbox(Page::first(10)).await.unwrap();
    assert!(reduced[0].reduced && reduced[0].recipient.is_empty() && reduced[0].body.is_empty());
    assert_eq!(reduced[0].subject, "Bienvenue dans la CPTS");
    assert_eq!(
        store.job_counts().await.unwrap(),
        Vec::<(String, i64)>::new(),
        "the finished job is gone too"
    );
}

#[tokio::test]
async fn a_job_of_unknown_kind_fails_for_good() {
    let (_db, store) = store().await;
    let runner = runner(store.clone(), Mailer::Outbox);
    let job = maillage_app::jobs::enqueue(
        store.as_ref(),
        &keyring(),
        "inconnu",
        &serde_json::json!({}),
        None,
        5,
    )
    .await
    .unwrap();
    assert!(runner.run_once(0).await.unwrap());
    let failed = store.find_job(job).await.unwrap().unwrap();
    assert_eq!(failed.status, JobStatus::Failed);
    assert!(failed.last_error.unwrap().contains("no handler"));
}
