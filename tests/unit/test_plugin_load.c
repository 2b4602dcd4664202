/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_plugin_load.c - the loader reads a plugin's config map with the
 * element size the plugin declared (struct sl_cfg_option may grow in a
 * later minor), and the host table says which ABI it is. Loading real
 * shared objects is covered by tests/e2e/test_plugins.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sl_host_api.h"
#include "sl_plugin_load.h"

/* An option as a future minor might declare it: the 1.0 fields, then more. */
struct future_option {
	struct sl_cfg_option o;
	const char *example;
	uint64_t more[3];
};

static void options_are_walked_with_the_plugins_element_size(void **state)
{
	static const struct future_option map[] = {
	    {.o = {.name = "a", .type = SL_CFG_INT, .def = "1", .offset = 8},
	     .example = "x"},
	    {.o = {.name = "b", .type = SL_CFG_STR, .desc = "bee"}},
	    {.o = SL_CFG_END},
	};
	size_t n;
	struct sl_cfg_option *got =
	    sl_plugin_copy_options(map, sizeof(map[0]), &n);

	(void)state;
	assert_non_null(got);
	assert_int_equal(n, 2);
	assert_string_equal(got[0].name, "a");
	assert_int_equal(got[0].type, SL_CFG_INT);
	assert_string_equal(got[0].def, "1");
	assert_int_equal(got[0].offset, 8);
	assert_string_equal(got[1].name, "b");
	assert_string_equal(got[1].desc, "bee");
	assert_null(got[2].name); /* terminated in host layout */
	free(got);
}

static void options_of_the_host_size_copy_as_they_are(void **state)
{
	static const struct sl_cfg_option map[] = {
	    {.name = "k", .type = SL_CFG_KV, .flags = SL_CFG_MULTI},
	    SL_CFG_END,
	};
	size_t n;
	struct sl_cfg_option *got =
	    sl_plugin_copy_options(map, sizeof(map[0]), &n);

	(void)state;
	assert_int_equal(n, 1);
	assert_memory_equal(&got[0], &map[0], sizeof(map[0]));
	free(got);
}

static void options_smaller_than_abi_1_0_are_refused(void **state)
{
	static const struct sl_cfg_option map[] = {SL_CFG_END};
	size_t n = 7;

	(void)state;
	assert_null(sl_plugin_copy_options(map, sizeof(map[0]) / 2, &n));
	assert_int_equal(n, 0);
}

static void host_table_carries_its_version_and_size(void **state)
{
	const struct sluice_host_api *h = sl_host_api();

	(void)state;
	assert_int_equal(h->abi_major, SL_ABI_MAJOR);
	assert_int_equal(h->abi_minor, SL_ABI_MINOR);
	assert_int_equal(h->struct_size, sizeof(*h));
	/* every slot is filled: a NULL one would crash a plugin */
	for (size_t off = offsetof(struct sluice_host_api, sl_vlog);
	     off + sizeof(void (*)(void)) <= sizeof(*h);
	     off += sizeof(void (*)(void))) {
		void (*fn)(void);

		memcpy(&fn, (const char *)h + off, sizeof(fn));
		assert_non_null(fn);
	}
	assert_ptr_equal(sluice_host, h); /* built-ins use the same table */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(options_are_walked_with_the_plugins_element_size),
	    cmocka_unit_test(options_of_the_host_size_copy_as_they_are),
	    cmocka_unit_test(options_smaller_than_abi_1_0_are_refused),
	    cmocka_unit_test(host_table_carries_its_version_and_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
