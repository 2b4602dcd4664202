/* SPDX-License-Identifier: Apache-2.0 */
/*
 * witness_auth.h - the witness input's checks on a sender: bearer tokens
 * (compared in constant time through their SHA-256 digests, so neither the
 * content nor the length of a configured token leaks through timing) and
 * X-Witness-Signature (HMAC-SHA256 of the raw body). Pure functions of
 * their arguments: no I/O besides loading token and secret files.
 */
#ifndef SL_WITNESS_AUTH_H
#define SL_WITNESS_AUTH_H

#include "sl_common.h"

#include <stdbool.h>

#define SL_WITNESS_DIGEST_LEN 32

struct sl_witness_tokens {
	size_t n, cap;
	unsigned char (*digest)[SL_WITNESS_DIGEST_LEN]; /* owned */
};

void sl_witness_tokens_init(struct sl_witness_tokens *t);
void sl_witness_tokens_destroy(struct sl_witness_tokens *t);
/* Adds one token (copied as a digest). 0, -SL_EINVAL (empty), -SL_ENOMEM. */
int sl_witness_tokens_add(struct sl_witness_tokens *t, const char *tok,
			  size_t len);
/*
 * Adds one token per line of `path` (surrounding white space trimmed, blank
 * lines skipped). 0, -SL_EIO (errno set), -SL_ENOMEM.
 */
int sl_witness_tokens_load(struct sl_witness_tokens *t, const char *path);
/*
 * True when `authorization` is "Bearer <token>" (scheme in any case) and
 * the token is one of `t`. Every configured token is compared, always.
 */
bool sl_witness_token_ok(const struct sl_witness_tokens *t,
			 const char *authorization);

enum sl_witness_sig {
	SL_WITNESS_SIG_OK = 0,
	SL_WITNESS_SIG_MISSING, /* no X-Witness-Signature header */
	SL_WITNESS_SIG_BAD,	/* not "sha256=<64 hex>", or wrong digest */
};

/* Checks `header` (may be NULL) against HMAC-SHA256(secret, body). */
enum sl_witness_sig sl_witness_signature_check(const void *secret,
					       size_t secret_len,
					       const char *header,
					       const char *body, size_t len);
/* The reason text for a failed check ("missing signature", ...). */
const char *sl_witness_sig_reason(enum sl_witness_sig s);

/*
 * Reads a whole secret file into *out (malloc'ed, NUL-terminated; trailing
 * white space and line breaks removed). 0, -SL_EIO, -SL_ETOOBIG (> 64 KiB),
 * -SL_ENOMEM.
 */
int sl_witness_read_secret(const char *path, char **out, size_t *len);

#endif
