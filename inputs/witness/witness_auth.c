/* SPDX-License-Identifier: Apache-2.0 */
/*
 * witness_auth.c - bearer tokens and body signatures for the witness input.
 * Comparisons go through CRYPTO_memcmp over fixed-size digests and never
 * stop at the first match, so timing says nothing about which token, or how
 * much of a signature, was right.
 */
#include "witness_auth.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SECRET_MAX (64 * 1024)

void sl_witness_tokens_init(struct sl_witness_tokens *t)
{
	memset(t, 0, sizeof(*t));
}

void sl_witness_tokens_destroy(struct sl_witness_tokens *t)
{
	if (t->digest)
		OPENSSL_cleanse(t->digest, t->cap * sizeof(*t->digest));
	free(t->digest);
	memset(t, 0, sizeof(*t));
}

static int digest(const char *s, size_t len,
		  unsigned char out[SL_WITNESS_DIGEST_LEN])
{
	unsigned int n = 0;

	if (EVP_Digest(s, len, out, &n, EVP_sha256(), NULL) != 1 ||
	    n != SL_WITNESS_DIGEST_LEN)
		return -SL_ENOMEM;
	return 0;
}

int sl_witness_tokens_add(struct sl_witness_tokens *t, const char *tok,
			  size_t len)
{
	if (len == 0)
		return -SL_EINVAL;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4;
		void *v = realloc(t->digest, cap * sizeof(*t->digest));

		if (!v)
			return -SL_ENOMEM;
		t->digest = v;
		t->cap = cap;
	}
	if (digest(tok, len, t->digest[t->n]) < 0)
		return -SL_ENOMEM;
	t->n++;
	return 0;
}

int sl_witness_tokens_load(struct sl_witness_tokens *t, const char *path)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	if (!f)
		return -SL_EIO;
	while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
		char *s = line, *e = line + n;

		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (e > s)
			rc = sl_witness_tokens_add(t, s, (size_t)(e - s));
	}
	if (rc == 0 && ferror(f)) {
		errno = EIO;
		rc = -SL_EIO;
	}
	if (line) {
		OPENSSL_cleanse(line, cap);
		free(line);
	}
	fclose(f);
	return rc;
}

bool sl_witness_token_ok(const struct sl_witness_tokens *t,
			 const char *authorization)
{
	unsigned char d[SL_WITNESS_DIGEST_LEN];
	const char *tok;
	size_t len;
	int match = 0;

	if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
		return false;
	tok = authorization + 7;
	while (*tok == ' ')
		tok++;
	len = strlen(tok);
	if (len == 0 || digest(tok, len, d) < 0)
		return false;
	for (size_t i = 0; i < t->n; i++)
		match |= CRYPTO_memcmp(d, t->digest[i], sizeof(d)) == 0;
	return match != 0;
}

enum sl_witness_sig sl_witness_signature_check(const void *secret,
					       size_t secret_len,
					       const char *header,
					       const char *body, size_t len)
{
	unsigned char want[EVP_MAX_MD_SIZE], got[SL_WITNESS_DIGEST_LEN];
	unsigned int want_len = 0;
	static const unsigned char empty;

	if (!header)
		return SL_WITNESS_SIG_MISSING;
	while (*header == ' ')
		header++;
	if (strncasecmp(header, "sha256=", 7) != 0)
		return SL_WITNESS_SIG_BAD;
	header += 7;
	if (strlen(header) != 2 * SL_WITNESS_DIGEST_LEN)
		return SL_WITNESS_SIG_BAD;
	for (size_t i = 0; i < SL_WITNESS_DIGEST_LEN; i++) {
		int hi = sl_hex_digit(header[2 * i]),
		    lo = sl_hex_digit(header[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return SL_WITNESS_SIG_BAD;
		got[i] = (unsigned char)(hi << 4 | lo);
	}
	if (!HMAC(EVP_sha256(), secret, (int)secret_len,
		  len ? (const unsigned char *)body : &empty, len, want,
		  &want_len) ||
	    want_len != SL_WITNESS_DIGEST_LEN)
		return SL_WITNESS_SIG_BAD;
	return CRYPTO_memcmp(want, got, sizeof(got)) == 0 ? SL_WITNESS_SIG_OK
							  : SL_WITNESS_SIG_BAD;
}

const char *sl_witness_sig_reason(enum sl_witness_sig s)
{
	switch (s) {
	case SL_WITNESS_SIG_OK:
		return "verified";
	case SL_WITNESS_SIG_MISSING:
		return "missing signature";
	default:
		return "bad signature";
	}
}

int sl_witness_read_secret(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (!f)
		return -SL_EIO;
	buf = malloc(SECRET_MAX + 2);
	if (!buf) {
		fclose(f);
		return -SL_ENOMEM;
	}
	n = fread(buf, 1, SECRET_MAX + 1, f);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		errno = EIO;
		return -SL_EIO;
	}
	fclose(f);
	if (n > SECRET_MAX) {
		OPENSSL_cleanse(buf, SECRET_MAX + 2);
		free(buf);
		return -SL_ETOOBIG;
	}
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		n--;
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}
