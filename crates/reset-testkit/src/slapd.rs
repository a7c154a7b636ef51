//! A real OpenLDAP (Debian's `slapd`) of a test's own, on loopback: a base `dc=example,dc=org`,
//! people under `ou=people`, an admin that may write passwords, LDAPS beside plain LDAP with a
//! certificate for `localhost` made here, and users' own binds for checking a new password.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::process::{KillOnDrop, free_port, strict};

/// Where Debian puts slapd.
pub const SLAPD: &str = "/usr/sbin/slapd";

/// The directory's base DN.
pub const BASE: &str = "dc=example,dc=org";
/// The DN that may write everything.
pub const ADMIN: &str = "cn=admin,dc=example,dc=org";
/// Its password.
pub const ADMIN_PASSWORD: &str = "admin secret";

/// A slapd of its own, killed when dropped.
pub struct Slapd {
    _child: KillOnDrop,
    /// The plain LDAP port (StartTLS works on it).
    pub port: u16,
    /// The LDAPS port.
    pub tls_port: u16,
    /// The folder with `ca.pem`, the configuration and the log.
    pub dir: PathBuf,
    _temp: tempfile::TempDir,
}

impl Slapd {
    /// Starts one, seeded with alice, bob and carol (password `old password of <uid>`); `None`
    /// (loudly) where slapd is missing, unless `CI=true`, where that panics.
    pub async fn start() -> Option<Self> {
        if !Path::new(SLAPD).exists() {
            assert!(!strict(), "{SLAPD} is missing and CI=true");
            eprintln!("*** SKIPPED: {SLAPD} is missing (apt-get install slapd ldap-utils) ***");
            return None;
        }
        let temp = tempfile::tempdir().expect("temp dir");
        let dir = temp.path().to_owned();
        std::fs::create_dir_all(dir.join("db")).expect("db dir");
        crate::pki::make(&dir);
        let conf = dir.join("slapd.conf");
        std::fs::write(
            &conf,
            format!(
                "include /etc/ldap/schema/core.schema\n\
                 include /etc/ldap/schema/cosine.schema\n\
                 include /etc/ldap/schema/nis.schema\n\
                 include /etc/ldap/schema/inetorgperson.schema\n\
                 modulepath /usr/lib/ldap\n\
                 moduleload back_mdb\n\
                 pidfile {dir}/slapd.pid\n\
                 TLSCACertificateFile {dir}/ca.pem\n\
                 TLSCertificateFile {dir}/server.pem\n\
                 TLSCertificateKeyFile {dir}/server.key\n\
                 password-hash {{SSHA}}\n\
                 database mdb\n\
                 suffix \"{BASE}\"\n\
                 rootdn \"{ADMIN}\"\n\
                 rootpw \"{ADMIN_PASSWORD}\"\n\
                 directory {dir}/db\n\
                 access to attrs=userPassword by self write by anonymous auth by * none\n\
                 access to * by * read\n",
                dir = dir.display()
            ),
        )
        .expect("slapd.conf");
        let (port, tls_port) = (free_port(), free_port());
        let child = Command::new(SLAPD)
            .args(["-f", &conf.display().to_string()])
            .args([
                "-h",
                &format!("ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{tls_port}/"),
            ])
            .args(["-d", "0"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("slapd.log")).expect("log"))
            .spawn()
            .expect("slapd");
        let slapd = Self {
            _child: KillOnDrop(child),
            port,
            tls_port,
            dir,
            _temp: temp,
        };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                slapd.seed();
                return Some(slapd);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "slapd did not start: {}",
            std::fs::read_to_string(slapd.dir.join("slapd.log")).unwrap_or_default()
        );
    }

    /// `ldap://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    /// The base, an `ou=people`, and alice, bob and carol.
    fn seed(&self) {
        let mut ldif = format!(
            "dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n\
             dn: ou=people,{BASE}\nobjectClass: organizationalUnit\nou: people\n\n"
        );
        for (uid, mail) in [
            ("alice", "alice@example.com"),
            ("bob", "bob@example.com"),
            ("carol", "carol@example.com"),
        ] {
            ldif.push_str(&format!(
                "dn: uid={uid},ou=people,{BASE}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {uid}\nmail: {mail}\nuserPassword: old password of {uid}\npreferredLanguage: de\n\n"
            ));
        }
        self.ldapadd(&ldif);
    }

    /// Adds entries as the admin.
    pub fn ldapadd(&self, ldif: &str) {
        use std::io::Write as _;
        let mut child = Command::new("ldapadd")
            .args(["-x", "-H", &self.url(), "-D", ADMIN, "-w", ADMIN_PASSWORD])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("ldapadd (apt-get install ldap-utils)");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(ldif.as_bytes())
            .expect("ldif");
        assert!(child.wait().expect("ldapadd").success(), "ldapadd failed");
    }

    /// Adds a person who can bind with `password`.
    pub fn add_person(&self, uid: &str, mail: &str, password: &str) {
        self.ldapadd(&format!(
            "dn: uid={uid},ou=people,{BASE}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {uid}\nmail: {mail}\nuserPassword: {password}\n\n"
        ));
    }

    /// The `entryUUID` of `uid` (the id the LDAP directory gives its account).
    pub fn entry_uuid(&self, uid: &str) -> String {
        let out = Command::new("ldapsearch")
            .args([
                "-x",
                "-LLL",
                "-H",
                &self.url(),
                "-D",
                ADMIN,
                "-w",
                ADMIN_PASSWORD,
            ])
            .args([
                "-b",
                &format!("uid={uid},ou=people,{BASE}"),
                "-s",
                "base",
                "entryUUID",
            ])
            .output()
            .expect("ldapsearch (apt-get install ldap-utils)");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("entryUUID: "))
            .unwrap_or_else(|| panic!("no entryUUID for {uid}"))
            .trim()
            .to_owned()
    }

    /// Whether `uid` binds with `password` (what an application's LDAP login does).
    pub fn binds(&self, uid: &str, password: &str) -> bool {
        Command::new("ldapwhoami")
            .args([
                "-x",
                "-H",
                &self.url(),
                "-D",
                &format!("uid={uid},ou=people,{BASE}"),
            ])
            .args(["-w", password])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}
