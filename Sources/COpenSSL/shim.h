#ifndef VERISPLIT_COPENSSL_SHIM_H
#define VERISPLIT_COPENSSL_SHIM_H
/* libcrypto only: the CSPRNG (RAND_bytes), SHA-256 and secure zeroing (OPENSSL_cleanse). */
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#endif
