/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_parser.h - [PARSER] definitions (Format json|regex|logfmt, Time_Key,
 * Time_Format, Time_Keep, Time_Offset, Types, ...) built from the config
 * tree, and the one function that turns a text into a record body with
 * them. Used by the parser filter and by inputs with a `Parser` option.
 * [MULTILINE_PARSER] sections are validated here too (used by tail later).
 */
#ifndef SL_PARSER_H
#define SL_PARSER_H

#include "sl_conf.h"
#include "sl_record.h"

struct sl_parser;
struct sl_parsers;

/*
 * Builds every [PARSER] and [MULTILINE_PARSER] section of `conf`. Errors
 * (unknown format, bad regex, unknown option, duplicate name) go to `diag`.
 * Returns 0 and *out (never NULL on success, possibly empty), or
 * -SL_ECONFIG / -SL_ENOMEM.
 */
int sl_parsers_build(const struct sl_conf *conf, struct sl_diag *diag,
		     struct sl_parsers **out);
void sl_parsers_destroy(struct sl_parsers *ps);
const struct sl_parser *sl_parsers_find(const struct sl_parsers *ps,
					const char *name);
const char *sl_parser_name(const struct sl_parser *p);

/*
 * Parses `text` (borrowed; it may point into `dst`'s own storage) and makes
 * the result the body of `dst`, a record already holding the event; on
 * success dst's time is set from Time_Key when the parser has one and the
 * field parsed (else left unchanged). Returns 0, or -SL_EPARSE when the text
 * does not match / is not a JSON object (dst unchanged), -SL_ENOMEM.
 */
int sl_parser_apply(const struct sl_parser *p, const char *text, size_t len,
		    struct sl_record *dst);

#endif
