//! The reset as a person does it, in headless Chromium driven over WebDriver: ask for a reset,
//! open the emailed link, submit a weak password (the reasons show), then a good one (the
//! success page), and check that the stored hash now verifies the new password. Screenshots go
//! to `test-artifacts/browser/`.
//!
//! Needs Debian's `chromium` and `chromium-driver`; without them the test is skipped loudly,
//! except with `CI=true`, where it fails.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Server, add_alice, command, request_alice, store_in};
use fantoccini::{Client, ClientBuilder, Locator};
use reset_testkit::process::{free_port, newest_mail, token_after};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-artifacts/browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn browser(port: u16, profile: &Path) -> Client {
    let caps: serde_json::Map<String, serde_json::Value> = serde_json::from_value(serde_json::json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=900,900", format!("--user-data-dir={}", profile.display()),
            ]
        }
    }))
    .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        // Plain HTTP to the local driver: no TLS stack needed.
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        if let Ok(client) = ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            return client;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not answer on {url}");
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(artifacts().join(name), png).unwrap();
}

async fn submit(c: &Client, password: &str, confirm: &str) {
    c.find(Locator::Id("new_password"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    c.find(Locator::Id("confirm_password"))
        .await
        .unwrap()
        .send_keys(confirm)
        .await
        .unwrap();
    c.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn text_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Waits for the page after a submit: until an element matching `xpath` is there.
async fn wait_for(c: &Client, xpath: &str) -> String {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::XPath(xpath))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Under `CI=true` the browser tests must run: a machine without Chromium fails here instead
/// of ignoring them (the build script decides `have_chromium`).
#[test]
fn chromium_is_installed_where_ci_needs_it() {
    assert!(
        cfg!(have_chromium) || !reset_testkit::db::strict(),
        "chromium and chromium-driver are not installed and CI=true"
    );
}

fn start_driver() -> (Driver, u16) {
    let port = free_port();
    let driver = Driver(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    (driver, port)
}

/// `/docs` renders every operation of the document from the vendored assets, with no request
/// failing (the machine has no internet, so a CDN request would).
#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(have_chromium),
    ignore = "needs chromium and chromium-driver (apt-get install chromium chromium-driver)"
)]
async fn the_api_reference_renders_offline() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = Server::start(command(dir.path(), None, port), dir.path(), "server", port).await;
    let (_driver, driver_port) = start_driver();
    let c = browser(driver_port, &dir.path().join("profile")).await;
    c.goto(&format!("http://127.0.0.1:{port}/docs"))
        .await
        .unwrap();
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(".opblock"))
        .await
        .unwrap();
    let doc: serde_json::Value =
        serde_json::from_str(&reset_api::openapi::document_json()).unwrap();
    let operations: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|ops| ops.as_object().unwrap().len())
        .sum();
    let rendered = c.find_all(Locator::Css(".opblock")).await.unwrap().len();
    assert_eq!(rendered, operations, "every operation is shown");
    let requests = c
        .execute(
            "return performance.getEntriesByType('resource').map(e => [e.name, e.responseStatus]);",
            vec![],
        )
        .await
        .unwrap();
    let requests = requests.as_array().unwrap();
    assert!(
        requests.len() >= 4,
        "page assets and the document: {requests:?}"
    );
    for r in requests {
        assert!(
            r[0].as_str()
                .unwrap()
                .starts_with(&format!("http://127.0.0.1:{port}/")),
            "{r}"
        );
        assert_eq!(r[1], 200, "a failed request: {r}");
    }
    shot(&c, "docs.png").await;
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(have_chromium),
    ignore = "needs chromium and chromium-driver (apt-get install chromium chromium-driver)"
)]
async fn a_person_resets_their_password_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let configured = || {
        let mut c = command(dir.path(), None, port);
        c.env("RESET_PUBLIC_URL", &base);
        c
    };
    let id = add_alice(configured());
    let _server = Server::start(configured(), dir.path(), "server", port).await;
    request_alice(&base).await;
    let mail = newest_mail(&dir.path().join("data/mail")).await;
    let token = token_after(&mail, &format!("{base}/reset-password?token="));

    let (_driver, driver_port) = start_driver();
    let c = browser(driver_port, &dir.path().join("profile")).await;
    c.goto(&format!("{base}/reset-password?token={token}"))
        .await
        .unwrap();
    assert_eq!(text_of(&c, "h1").await, "Choose a new password");
    assert_eq!(text_of(&c, "label[for=new_password]").await, "New password");
    shot(&c, "1-form.png").await;

    submit(&c, "alice1234", "alice1234").await;
    let errors = wait_for(&c, "//div[@id='errors']").await;
    assert!(errors.contains("It contains your username."), "{errors}");
    shot(&c, "2-weak-password.png").await;

    let strong = "violet tractor melts quietly";
    submit(&c, strong, strong).await;
    wait_for(&c, "//h1[text()='Password changed']").await;
    assert!(
        text_of(&c, "#message")
            .await
            .contains("Your password has been changed.")
    );
    shot(&c, "3-changed.png").await;
    c.close().await.unwrap();

    let store = store_in(dir.path()).await;
    use reset_core::UserDirectory as _;
    let user = store.by_id(&id).await.unwrap().unwrap();
    let hash = user.password_hash.unwrap();
    assert!(reset_core::password::verify_password(strong, &hash));
    assert!(!reset_core::password::verify_password("alice1234", &hash));
}
