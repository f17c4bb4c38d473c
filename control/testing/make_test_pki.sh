#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# make_test_pki.sh DIR: a throwaway PKI for the TLS tests, made with
# openssl: ca.pem, server.pem/-key.pem (CN and SAN localhost, 127.0.0.1),
# client certificates operator.pem and viewer.pem (CN = file name) signed
# by the CA, and rogue.pem signed by a CA nobody trusts. Never use these
# outside tests; docs/fleet.md shows how to make real ones.
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"
q() { "$@" >/dev/null 2>&1 || { echo "make_test_pki: failed: $*" >&2; exit 1; }; }

q openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=daedalus test CA" \
	-keyout ca-key.pem -out ca.pem
q openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=rogue CA" \
	-keyout rogue-ca-key.pem -out rogue-ca.pem

issue() {  # issue NAME CA_PREFIX EXTENSIONS
	q openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$1-key.pem" -out "$1.csr"
	printf '%s\n' "$3" >"$1.ext"
	q openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2-key.pem" -CAcreateserial \
		-days 2 -extfile "$1.ext" -out "$1.pem"
}
issue server ca "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
issue operator ca "extendedKeyUsage=clientAuth"
issue viewer ca "extendedKeyUsage=clientAuth"
issue rogue rogue-ca "extendedKeyUsage=clientAuth"
echo "make_test_pki: $dir"
