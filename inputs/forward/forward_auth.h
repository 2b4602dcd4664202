/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forward_auth.h - the server side of the Forward protocol's handshake
 * (shared_key, optional users): HELO out, PING checked, PONG out. Digests
 * are lowercase hex SHA-512, as Fluentd and Fluent Bit compute them:
 *   shared key: sha512(salt | hostname | nonce | shared_key)
 *   user:       sha512(auth_salt | username | password)
 * Message building and checking only; forward.c moves the bytes.
 */
#ifndef FORWARD_AUTH_H
#define FORWARD_AUTH_H

#include "sl_common.h"

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#define FWD_NONCE_SIZE 16
#define FWD_SALT_SIZE  16
#define FWD_HEX_DIGEST 128

struct fwd_user {
	const char *name, *password; /* borrowed from the input's options */
};

struct fwd_auth {
	const char *shared_key; /* borrowed; "" with Empty_Shared_Key */
	const char *self_hostname;
	const struct fwd_user *users; /* none: no user check */
	size_t n_users;
};

/* The part of a buffer a digest covers. */
struct fwd_part {
	const void *data;
	size_t len;
};

/* Lowercase hex SHA-512 of the parts, one after the other, NUL-ended.
 * 0 or -SL_ENOMEM. */
int fwd_sha512_hex(char out[FWD_HEX_DIGEST + 1], const struct fwd_part *parts,
		   size_t n);

/* The msgpack write callback for a packer whose data is a struct sl_buf. */
int fwd_buf_write(void *data, const char *buf, size_t len);

/* Appends ["HELO", {"nonce": bin, "auth": bin, "keepalive": true}]. */
int fwd_helo_pack(struct sl_buf *out, const uint8_t nonce[FWD_NONCE_SIZE],
		  const uint8_t salt[FWD_SALT_SIZE]);

enum fwd_ping_result {
	FWD_PING_OK = 0,
	FWD_PING_MALFORMED = -1, /* not a PING of 6 strings */
	FWD_PING_BAD_KEY = -2,	 /* shared key digest differs */
	FWD_PING_BAD_USER = -3,	 /* unknown user or wrong password */
};

/*
 * Checks a client's ["PING", hostname, shared_key_salt, digest, username,
 * password_digest]. On OK, BAD_KEY and BAD_USER, *salt / *salt_len borrow
 * the client's salt from `root` (the PONG needs it).
 */
enum fwd_ping_result fwd_ping_check(const struct fwd_auth *auth,
				    const msgpack_object *root,
				    const uint8_t nonce[FWD_NONCE_SIZE],
				    const uint8_t salt[FWD_SALT_SIZE],
				    const char **client_salt,
				    size_t *client_salt_len);

/* Appends ["PONG", ok, reason, self_hostname, digest]. */
int fwd_pong_pack(struct sl_buf *out, const struct fwd_auth *auth, bool ok,
		  const char *reason, const char *client_salt,
		  size_t client_salt_len, const uint8_t nonce[FWD_NONCE_SIZE]);

#endif
