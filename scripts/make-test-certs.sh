#!/usr/bin/env bash
# Usage: scripts/make-test-certs.sh [OUTDIR]
# Writes a throwaway CA, a server certificate for localhost/127.0.0.1 and an enrolled client
# certificate (EC P-256, valid 100 years) for the TLS tests and for trying mutual TLS locally.
# These keys are public test fixtures: never use them for a real deployment; make your own
# with the same commands and keep the keys private.
set -euo pipefail
out=${1:-Tests/SplitLearningTests/Resources/tls}
mkdir -p "$out"
cd "$out"
days=36500
openssl ecparam -name prime256v1 -genkey -noout -out ca.key
openssl req -x509 -new -key ca.key -sha256 -days $days -subj "/CN=VeriSplit test CA" -out ca.pem
make_cert() { # name, subject, extensions
  openssl ecparam -name prime256v1 -genkey -noout -out "$1.key.ec"
  openssl pkcs8 -topk8 -nocrypt -in "$1.key.ec" -out "$1.key"
  rm "$1.key.ec"
  openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
  printf '%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days $days -sha256 -extfile "$1.ext" -out "$1.pem"
  rm "$1.csr" "$1.ext"
}
make_cert server "/CN=localhost" "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
make_cert client "/CN=enrolled-client" "extendedKeyUsage=clientAuth"
# A second CA and a client it signed: not enrolled with the server.
openssl ecparam -name prime256v1 -genkey -noout -out other-ca.key
openssl req -x509 -new -key other-ca.key -sha256 -days $days -subj "/CN=Other CA" -out other-ca.pem
openssl ecparam -name prime256v1 -genkey -noout -out stranger.key.ec
openssl pkcs8 -topk8 -nocrypt -in stranger.key.ec -out stranger.key && rm stranger.key.ec
openssl req -new -key stranger.key -subj "/CN=stranger" -out stranger.csr
openssl x509 -req -in stranger.csr -CA other-ca.pem -CAkey other-ca.key -CAcreateserial -days $days -sha256 -out stranger.pem
rm -f stranger.csr other-ca.key ca.srl other-ca.srl ca.key
echo "wrote $(pwd)"
