//! TLS to the database, against real servers started here with a certificate made here:
//! PostgreSQL 15 (`sslmode`, `sslrootcert`) and MariaDB (`ssl-mode`, `ssl-ca`). Each mode means
//! what it means to libpq / MySQL's client: `verify-full` passes with the right CA and host name
//! and fails, saying why, with a wrong CA or host name; `require` refuses a server without TLS;
//! `prefer` falls back to it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use reset_diesel::{DieselStore, PoolOptions};
use reset_testkit::process::{KillOnDrop, command_as, free_port, is_root, strict};

/// A CA, a server certificate it signed for `localhost` only, and a CA that signed nothing.
struct Pki {
    dir: PathBuf,
}

impl Pki {
    fn make(dir: &Path) -> Self {
        reset_testkit::pki::make(dir);
        Self {
            dir: dir.to_owned(),
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

fn chown(user: &str, path: &Path) {
    if is_root() {
        let status = Command::new("chown")
            .args(["-R", &format!("{user}:{user}"), &path.display().to_string()])
            .status()
            .expect("chown");
        assert!(status.success(), "chown {}", path.display());
    }
}

async fn wait_for_port(port: u16, log: &Path) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no server on port {port}: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// A server process, killed when dropped.
struct Server {
    _child: KillOnDrop,
    port: u16,
}

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// Whether this machine can start servers of its own; under CI it must.
fn have(program: &str) -> bool {
    let there = Path::new(program).exists();
    assert!(there || !strict(), "{program} is missing and CI=true");
    if !there {
        eprintln!("*** SKIPPED: {program} is missing ***");
    }
    there
}

/// A PostgreSQL 15 of its own in `dir`, with TLS (the `Pki`'s server certificate) or without.
async fn postgres(dir: &Path, pki: Option<&Pki>) -> Server {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    chown("postgres", dir);
    let status = command_as("postgres", &format!("{PG_BIN}/initdb"))
        .args(["-D", &data.display().to_string(), "-U", "postgres"])
        .args(["--auth=trust", "-N", "-E", "UTF8"])
        .stdout(Stdio::null())
        .status()
        .expect("initdb");
    assert!(status.success(), "initdb failed");
    let port = free_port();
    let log = dir.join("postgres.log");
    let mut args = vec![
        "-D".to_owned(),
        data.display().to_string(),
        "-p".into(),
        port.to_string(),
        "-k".into(),
        dir.display().to_string(),
        "-c".into(),
        "listen_addresses=127.0.0.1".into(),
        "-c".into(),
        "fsync=off".into(),
    ];
    if let Some(pki) = pki {
        // The key must belong to the server's user, readable by it alone.
        for file in ["server.pem", "server.key"] {
            std::fs::copy(pki.dir.join(file), data.join(file)).expect("copy");
        }
        chown("postgres", &data);
        set_mode(&data.join("server.key"), 0o600);
        for setting in [
            "ssl=on",
            "ssl_cert_file=server.pem",
            "ssl_key_file=server.key",
        ] {
            args.extend(["-c".to_owned(), setting.to_owned()]);
        }
    } else {
        args.extend(["-c".to_owned(), "ssl=off".to_owned()]);
    }
    let child = command_as("postgres", &format!("{PG_BIN}/postgres"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("postgres");
    let server = Server {
        _child: KillOnDrop(child),
        port,
    };
    wait_for_port(port, &log).await;
    // Listening comes a moment before accepting queries.
    tokio::time::sleep(Duration::from_millis(300)).await;
    server
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Opens the store at `url` and applies its migrations: the whole path a server takes at start.
async fn open(url: &str) -> Result<DieselStore, String> {
    let store = DieselStore::connect(url, PoolOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| e.to_string())?;
    Ok(store)
}

fn expect_refused(result: Result<DieselStore, String>, words: &[&str]) -> String {
    let message = result.expect_err("the connection is refused");
    for word in words {
        assert!(message.contains(word), "{word:?} not in {message:?}");
    }
    message
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_sslmode_means_what_it_means_to_libpq() {
    if !have(&format!("{PG_BIN}/postgres")) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let pki = Pki::make(dir.path());
    let tls_dir = dir.path().join("tls");
    let plain_dir = dir.path().join("plain");
    std::fs::create_dir_all(&tls_dir).expect("dir");
    std::fs::create_dir_all(&plain_dir).expect("dir");
    let tls = postgres(&tls_dir, Some(&pki)).await;
    let plain = postgres(&plain_dir, None).await;
    let url = |host: &str, port: u16, query: &str| {
        format!("postgres://postgres@{host}:{port}/postgres?{query}")
    };
    let ca = pki.path("ca.pem");
    let wrong = pki.path("wrong-ca.pem");

    // verify-full: the right CA and the name on the certificate.
    let full = url(
        "localhost",
        tls.port,
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    let store = open(&full)
        .await
        .expect("verify-full with the right CA and host");
    let counts = store.row_counts().await.expect("a query over TLS");
    assert_eq!(counts.outbox, 0);
    drop(store);
    // …on a connection that is encrypted (asked of the server, not of the client).
    assert_eq!(
        ssl_in_use(&full).await,
        Some(true),
        "verify-full runs over TLS"
    );

    // A host name the certificate does not carry.
    expect_refused(
        open(&url(
            "127.0.0.1",
            tls.port,
            &format!("sslmode=verify-full&sslrootcert={ca}"),
        ))
        .await,
        &["not valid for name", "name the host"],
    );
    // verify-ca does not look at the name.
    assert!(
        open(&url(
            "127.0.0.1",
            tls.port,
            &format!("sslmode=verify-ca&sslrootcert={ca}")
        ))
        .await
        .is_ok(),
        "verify-ca with the right CA, any host name"
    );
    // A CA that did not sign the certificate, for either mode.
    for mode in ["verify-ca", "verify-full"] {
        expect_refused(
            open(&url(
                "localhost",
                tls.port,
                &format!("sslmode={mode}&sslrootcert={wrong}"),
            ))
            .await,
            &["invalid peer certificate", "chain to sslrootcert"],
        );
    }
    // Without sslrootcert, verify-full trusts public roots only: a private CA is refused.
    expect_refused(
        open(&url("localhost", tls.port, "sslmode=verify-full")).await,
        &["invalid peer certificate"],
    );
    // require encrypts without checking (libpq's meaning); with sslrootcert it checks the CA.
    assert_eq!(
        ssl_in_use(&url("127.0.0.1", tls.port, "sslmode=require")).await,
        Some(true)
    );
    expect_refused(
        open(&url(
            "127.0.0.1",
            tls.port,
            &format!("sslmode=require&sslrootcert={wrong}"),
        ))
        .await,
        &["invalid peer certificate"],
    );
    // prefer (the default) encrypts when the server can.
    assert_eq!(
        ssl_in_use(&url("127.0.0.1", tls.port, "")).await,
        Some(true)
    );
    assert_eq!(
        ssl_in_use(&url("127.0.0.1", tls.port, "sslmode=disable")).await,
        Some(false)
    );

    // A server without TLS: require refuses, prefer connects in the clear.
    expect_refused(
        open(&url("127.0.0.1", plain.port, "sslmode=require")).await,
        &["ssl = off"],
    );
    expect_refused(
        open(&url(
            "localhost",
            plain.port,
            &format!("sslmode=verify-full&sslrootcert={ca}"),
        ))
        .await,
        &["ssl = off"],
    );
    assert_eq!(
        ssl_in_use(&url("127.0.0.1", plain.port, "sslmode=prefer")).await,
        Some(false)
    );
    // A mode libpq does not know is an error at start, not a silent default.
    expect_refused(
        open(&url("127.0.0.1", tls.port, "sslmode=verify")).await,
        &["sslmode=\"verify\""],
    );
}

/// Whether the store's connection to `url` is encrypted, as the server sees it (`pg_stat_ssl`).
async fn ssl_in_use(url: &str) -> Option<bool> {
    use diesel_async::RunQueryDsl as _;
    let mut conn = reset_diesel::PgTarget::parse(url)
        .ok()?
        .establish()
        .await
        .ok()?;
    diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(
        "(SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid())",
    ))
    .get_result::<bool>(&mut conn)
    .await
    .ok()
}

/// The TLS cipher of the store's connection to `url`, as the server sees it (empty: none).
async fn mysql_cipher(url: &str) -> Option<String> {
    use diesel_async::RunQueryDsl as _;
    let mut conn = reset_diesel::MysqlTarget::parse(url)
        .ok()?
        .establish()
        .await
        .ok()?;
    diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>(
        "(SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'SSL_CIPHER')",
    ))
    .get_result::<String>(&mut conn)
    .await
    .ok()
}

const MARIADB: &str = "/usr/sbin/mariadbd";

/// A MariaDB of its own in `dir`, with TLS from the `Pki`.
async fn mariadb(dir: &Path, pki: &Pki) -> Server {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    for file in ["ca.pem", "server.pem", "server.key"] {
        std::fs::copy(pki.dir.join(file), dir.join(file)).expect("copy");
    }
    chown("mysql", dir);
    let status = Command::new("mariadb-install-db")
        .args(["--no-defaults", "--auth-root-authentication-method=normal"])
        .arg(format!("--datadir={}", data.display()))
        .args(if is_root() {
            vec!["--user=mysql"]
        } else {
            vec![]
        })
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("mariadb-install-db");
    assert!(status.success(), "mariadb-install-db failed");
    let port = free_port();
    let log = dir.join("mariadb.log");
    let mut command = Command::new(MARIADB);
    command
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--port={port}"))
        .arg(format!("--socket={}", dir.join("mysqld.sock").display()))
        .arg(format!("--pid-file={}", dir.join("mysqld.pid").display()))
        .arg("--bind-address=127.0.0.1")
        .arg("--skip-log-bin")
        .arg(format!("--ssl-ca={}", dir.join("ca.pem").display()))
        .arg(format!("--ssl-cert={}", dir.join("server.pem").display()))
        .arg(format!("--ssl-key={}", dir.join("server.key").display()));
    if is_root() {
        command.arg("--user=mysql");
    }
    let child = command
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("mariadbd");
    let server = Server {
        _child: KillOnDrop(child),
        port,
    };
    wait_for_port(port, &log).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn mysql_ssl_mode_means_what_it_means_to_the_mysql_client() {
    if !have(MARIADB) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let pki = Pki::make(dir.path());
    let server_dir = dir.path().join("mariadb");
    std::fs::create_dir_all(&server_dir).expect("dir");
    let tls = mariadb(&server_dir, &pki).await;
    let url =
        |host: &str, port: u16, query: &str| format!("mysql://root@{host}:{port}/mysql?{query}");
    let ca = pki.path("ca.pem");
    let wrong = pki.path("wrong-ca.pem");

    let identity = url(
        "localhost",
        tls.port,
        &format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={ca}"),
    );
    DieselStore::connect(&identity, PoolOptions::default())
        .await
        .expect("VERIFY_IDENTITY with the right CA and host");
    assert!(mysql_cipher(&identity).await.is_some_and(|c| !c.is_empty()));

    let connect = |url: String| async move {
        DieselStore::connect(&url, PoolOptions::default())
            .await
            .map_err(|e| e.to_string())
    };
    expect_refused(
        connect(url(
            "127.0.0.1",
            tls.port,
            &format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={ca}"),
        ))
        .await,
        &["VERIFY_IDENTITY"],
    );
    assert!(
        connect(url(
            "localhost",
            tls.port,
            &format!("ssl-mode=VERIFY_CA&ssl-ca={ca}")
        ))
        .await
        .is_ok(),
        "VERIFY_CA with the right CA"
    );
    // mysql_async 0.36 cannot skip the host name check on rustls 0.23 (it looks for the word
    // NotValidForName, which rustls no longer prints): VERIFY_CA checks the name too, stricter
    // than MySQL's client (docs/deploy.md says so). This pins it, to notice when it changes.
    expect_refused(
        connect(url(
            "127.0.0.1",
            tls.port,
            &format!("ssl-mode=VERIFY_CA&ssl-ca={ca}"),
        ))
        .await,
        &["not valid for name"],
    );
    expect_refused(
        connect(url(
            "localhost",
            tls.port,
            &format!("ssl-mode=VERIFY_CA&ssl-ca={wrong}"),
        ))
        .await,
        &["VERIFY_CA"],
    );
    let required = url("127.0.0.1", tls.port, "ssl-mode=REQUIRED");
    connect(required.clone())
        .await
        .expect("REQUIRED checks no certificate");
    assert!(mysql_cipher(&required).await.is_some_and(|c| !c.is_empty()));
    // PREFERRED (the default) encrypts when the server can.
    assert!(
        mysql_cipher(&url("127.0.0.1", tls.port, ""))
            .await
            .is_some_and(|c| !c.is_empty())
    );

    // The suite's MariaDB has no TLS (`have_ssl` is DISABLED on this machine's): REQUIRED
    // refuses it, PREFERRED speaks to it in the clear.
    let plain = format!(
        "{}/mysql",
        reset_testkit::db::mysql_admin_url().trim_end_matches('/')
    );
    assert_eq!(
        mysql_cipher(&format!("{plain}?ssl-mode=PREFERRED"))
            .await
            .as_deref(),
        Some(""),
        "the suite's MariaDB is expected without TLS"
    );
    expect_refused(
        connect(format!("{plain}?ssl-mode=REQUIRED")).await,
        &["ssl-mode=Required", "has no TLS"],
    );
}
