/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube_merge.c - Merge_Log's pieces: the members of the JSON object a log
 * line holds, printed back (string values trimmed with Merge_Log_Trim, as
 * Fluent Bit's value_trim_size does), and their keys so the caller can drop
 * an original field of the same name. Record assembly is kubernetes.c's.
 */
#include "kube_json.h"

#include <stdlib.h>
#include <string.h>

size_t kube_trim_len(const char *s, size_t len)
{
	size_t i = len;

	/* like Fluent Bit: the first byte is never trimmed */
	while (i > 1) {
		if (s[i - 1] == '\n') {
			i--;
			continue;
		}
		if (i >= 2 && s[i - 2] == '\\' &&
		    (s[i - 1] == 'n' || s[i - 1] == 'r')) {
			i -= 2;
			continue;
		}
		break;
	}
	return i;
}

void kube_keys_release(struct kube_keys *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
	k->v = NULL;
	k->n = 0;
}

bool kube_keys_has(const struct kube_keys *k, const char *key, size_t len)
{
	for (size_t i = 0; i < k->n; i++)
		if (strlen(k->v[i]) == len && memcmp(k->v[i], key, len) == 0)
			return true;
	return false;
}

int kube_merge_members(struct sl_buf *b, size_t start, const char *obj,
		       size_t len, bool trim, struct kube_keys *keys)
{
	const char *err = NULL;
	yajl_val root = kube_json_parse(obj, len, &err);
	int rc = 0, n;

	if (!root)
		return err && strcmp(err, "out of memory") == 0 ? -SL_ENOMEM
								: -SL_EPARSE;
	for (size_t i = 0; i < root->u.object.len && rc == 0; i++) {
		const char *k = root->u.object.keys[i];
		yajl_val v = root->u.object.values[i];

		if (b->len > start)
			rc |= sl_buf_append(b, ",", 1);
		rc |= sl_json_append_string(b, k, strlen(k));
		rc |= sl_buf_append(b, ":", 1);
		if (YAJL_IS_STRING(v)) {
			const char *s = (v)->u.string;
			size_t slen = strlen(s);

			rc |= sl_json_append_string(
			    b, s, trim ? kube_trim_len(s, slen) : slen);
		} else {
			char *text = kube_json_text(v);

			rc |= text ? sl_buf_append(b, text, strlen(text))
				   : -SL_ENOMEM;
			free(text);
		}
		if (keys && rc == 0) {
			char **nv =
			    realloc(keys->v, (keys->n + 1) * sizeof(*nv));

			if (!nv) {
				rc = -SL_ENOMEM;
				break;
			}
			keys->v = nv;
			nv[keys->n] = strdup(k);
			if (!nv[keys->n])
				rc = -SL_ENOMEM;
			else
				keys->n++;
		}
	}
	n = (int)root->u.object.len;
	yajl_tree_free(root);
	return rc ? -SL_ENOMEM : n;
}
