/* SPDX-License-Identifier: Apache-2.0 */
/* test_router.c - Match wildcards and Match_Regex as Fluent Bit users write
 * them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "sl_router.h"

static bool wm(const char *p, const char *t)
{
	return sl_match_wildcard(p, t, strlen(t));
}

static void wildcard_patterns(void **state)
{
	(void)state;
	assert_true(wm("*", "anything.at.all"));
	assert_true(wm("*", ""));
	assert_true(wm("kube.*", "kube.var.log.containers.a.log"));
	assert_false(wm("kube.*", "kubex.var"));
	assert_true(wm("kube.*", "kube."));
	assert_true(wm("*.log", "app.log"));
	assert_false(wm("*.log", "app.log.1"));
	assert_true(wm("a*b*c", "axxbyyc"));
	assert_true(wm("a*b*c", "abbc"));
	assert_false(wm("a*b*c", "acb"));
	assert_true(wm("app", "app"));
	assert_false(wm("app", "apps"));
	assert_false(wm("apps", "app"));
	assert_true(wm("**", "x"));
	/* matching is case-sensitive, as in Fluent Bit */
	assert_false(wm("App", "app"));
}

static void wildcard_tag_is_length_bounded(void **state)
{
	const char tag[] = {'a', 'b', 'X'};

	(void)state;
	assert_true(sl_match_wildcard("ab", tag, 2));
	assert_false(sl_match_wildcard("abX", tag, 2));
}

static void routes(void **state)
{
	struct sl_route r;
	char err[128];

	(void)state;
	assert_int_equal(sl_route_init(&r, "app.*", NULL, err, sizeof(err)), 0);
	assert_true(sl_route_matches(&r, "app.x", 5));
	assert_false(sl_route_matches(&r, "db.x", 4));
	sl_route_destroy(&r);

	assert_int_equal(
	    sl_route_init(&r, NULL, "^(app|db)\\.", err, sizeof(err)), 0);
	assert_true(sl_route_matches(&r, "db.x", 4));
	assert_false(sl_route_matches(&r, "web.x", 5));
	sl_route_destroy(&r);

	/* no Match at all: nothing is routed */
	assert_int_equal(sl_route_init(&r, NULL, NULL, err, sizeof(err)), 0);
	assert_false(sl_route_matches(&r, "x", 1));
	sl_route_destroy(&r);

	assert_int_equal(sl_route_init(&r, NULL, "(unclosed", err, sizeof(err)),
			 -SL_EINVAL);
	assert_non_null(strstr(err, "offset"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(wildcard_patterns),
	    cmocka_unit_test(wildcard_tag_is_length_bounded),
	    cmocka_unit_test(routes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
