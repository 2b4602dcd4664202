/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forward_auth.c - HELO, PING and PONG of the Forward handshake (see the
 * header). Digests are compared in constant time: the PING digest is a
 * secret-dependent value an attacker can probe repeatedly.
 */
#include "forward_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

int fwd_sha512_hex(char out[FWD_HEX_DIGEST + 1], const struct fwd_part *parts,
		   size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok;

	if (!c)
		return -SL_ENOMEM;
	ok = EVP_DigestInit_ex(c, EVP_sha512(), NULL);
	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(c, parts[i].data, parts[i].len);
	ok = ok && EVP_DigestFinal_ex(c, md, &md_len) && md_len == 64;
	EVP_MD_CTX_free(c);
	if (!ok)
		return -SL_ENOMEM;
	for (unsigned i = 0; i < 64; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[FWD_HEX_DIGEST] = '\0';
	return 0;
}

int fwd_buf_write(void *data, const char *buf, size_t len)
{
	return sl_buf_append(data, buf, len) < 0 ? -1 : 0;
}

static void pack_str(msgpack_packer *pk, const void *s, size_t len)
{
	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, s, len);
}

int fwd_helo_pack(struct sl_buf *out, const uint8_t nonce[FWD_NONCE_SIZE],
		  const uint8_t salt[FWD_SALT_SIZE])
{
	msgpack_packer pk;

	/* reserved first, so no append below can fail half-way */
	if (sl_buf_reserve(out, 64 + FWD_NONCE_SIZE + FWD_SALT_SIZE) < 0)
		return -SL_ENOMEM;
	msgpack_packer_init(&pk, out, fwd_buf_write);
	/* nonce and auth are random bytes: bin, as Fluentd sends them
	 * (Fluent Bit sends str, which strict UTF-8 decoders refuse; both
	 * Fluent Bit's and Fluentd's clients read either) */
	msgpack_pack_array(&pk, 2);
	pack_str(&pk, "HELO", 4);
	msgpack_pack_map(&pk, 3);
	pack_str(&pk, "nonce", 5);
	msgpack_pack_bin(&pk, FWD_NONCE_SIZE);
	msgpack_pack_bin_body(&pk, nonce, FWD_NONCE_SIZE);
	pack_str(&pk, "auth", 4);
	msgpack_pack_bin(&pk, FWD_SALT_SIZE);
	msgpack_pack_bin_body(&pk, salt, FWD_SALT_SIZE);
	pack_str(&pk, "keepalive", 9);
	msgpack_pack_true(&pk);
	return 0;
}

static bool str_of(const msgpack_object *o, const char **p, size_t *len)
{
	if (o->type == MSGPACK_OBJECT_STR) {
		*p = o->via.str.ptr;
		*len = o->via.str.size;
		return true;
	}
	if (o->type == MSGPACK_OBJECT_BIN) {
		*p = o->via.bin.ptr;
		*len = o->via.bin.size;
		return true;
	}
	return false;
}

static bool digest_equal(const char *want, const char *got, size_t got_len)
{
	return got_len == FWD_HEX_DIGEST &&
	       CRYPTO_memcmp(want, got, FWD_HEX_DIGEST) == 0;
}

static bool user_ok(const struct fwd_auth *auth, const char *user,
		    size_t user_len, const char *digest, size_t digest_len,
		    const uint8_t salt[FWD_SALT_SIZE])
{
	bool found = false;

	for (size_t i = 0; i < auth->n_users; i++) {
		const struct fwd_user *u = &auth->users[i];
		char want[FWD_HEX_DIGEST + 1];
		struct fwd_part parts[] = {
		    {salt, FWD_SALT_SIZE},
		    {u->name, strlen(u->name)},
		    {u->password, strlen(u->password)},
		};

		if (strlen(u->name) != user_len ||
		    memcmp(u->name, user, user_len) != 0)
			continue;
		if (fwd_sha512_hex(want, parts, SL_ARRAY_LEN(parts)) < 0)
			return false;
		found = found || digest_equal(want, digest, digest_len);
	}
	return found;
}

enum fwd_ping_result fwd_ping_check(const struct fwd_auth *auth,
				    const msgpack_object *root,
				    const uint8_t nonce[FWD_NONCE_SIZE],
				    const uint8_t salt[FWD_SALT_SIZE],
				    const char **client_salt,
				    size_t *client_salt_len)
{
	const char *s[6];
	size_t len[6];
	char want[FWD_HEX_DIGEST + 1];

	if (root->type != MSGPACK_OBJECT_ARRAY || root->via.array.size != 6)
		return FWD_PING_MALFORMED;
	for (int i = 0; i < 6; i++)
		if (!str_of(&root->via.array.ptr[i], &s[i], &len[i]))
			return FWD_PING_MALFORMED;
	if (len[0] != 4 || memcmp(s[0], "PING", 4) != 0)
		return FWD_PING_MALFORMED;
	*client_salt = s[2];
	*client_salt_len = len[2];
	{
		struct fwd_part parts[] = {
		    {s[2], len[2]},
		    {s[1], len[1]},
		    {nonce, FWD_NONCE_SIZE},
		    {auth->shared_key, strlen(auth->shared_key)},
		};

		if (fwd_sha512_hex(want, parts, SL_ARRAY_LEN(parts)) < 0)
			return FWD_PING_BAD_KEY;
	}
	if (!digest_equal(want, s[3], len[3]))
		return FWD_PING_BAD_KEY;
	if (auth->n_users > 0 &&
	    !user_ok(auth, s[4], len[4], s[5], len[5], salt))
		return FWD_PING_BAD_USER;
	return FWD_PING_OK;
}

int fwd_pong_pack(struct sl_buf *out, const struct fwd_auth *auth, bool ok,
		  const char *reason, const char *client_salt,
		  size_t client_salt_len, const uint8_t nonce[FWD_NONCE_SIZE])
{
	char digest[FWD_HEX_DIGEST + 1];
	struct fwd_part parts[] = {
	    {client_salt, client_salt_len},
	    {auth->self_hostname, strlen(auth->self_hostname)},
	    {nonce, FWD_NONCE_SIZE},
	    {auth->shared_key, strlen(auth->shared_key)},
	};
	msgpack_packer pk;

	if (fwd_sha512_hex(digest, parts, SL_ARRAY_LEN(parts)) < 0 ||
	    sl_buf_reserve(out, 64 + strlen(reason) +
				    strlen(auth->self_hostname) +
				    FWD_HEX_DIGEST) < 0)
		return -SL_ENOMEM;
	msgpack_packer_init(&pk, out, fwd_buf_write);
	msgpack_pack_array(&pk, 5);
	pack_str(&pk, "PONG", 4);
	if (ok)
		msgpack_pack_true(&pk);
	else
		msgpack_pack_false(&pk);
	pack_str(&pk, reason, strlen(reason));
	pack_str(&pk, auth->self_hostname, strlen(auth->self_hostname));
	pack_str(&pk, ok ? digest : "", ok ? FWD_HEX_DIGEST : 0);
	return 0;
}
