#!/bin/sh
# The compose demo's OpenLDAP: Debian's slapd with slapd.conf, seeded once with seed.ldif.
set -eu
if ! command -v slapd >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slapd ldap-utils >/dev/null
fi
mkdir -p /var/lib/reset-ldap/db
slapd -f /ldap/slapd.conf -h "ldap:///" -d 0 &
pid=$!
for _ in $(seq 1 50); do ldapwhoami -x -H ldap://127.0.0.1 >/dev/null 2>&1 && break; sleep 0.2; done
ldapsearch -x -H ldap://127.0.0.1 -b dc=example,dc=org -s base >/dev/null 2>&1 \
  || ldapadd -x -H ldap://127.0.0.1 -D cn=admin,dc=example,dc=org -w admin -f /ldap/seed.ldif
wait "$pid"
