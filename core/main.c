/* SPDX-License-Identifier: Apache-2.0 */
/* main.c - placeholder until the CLI lands (sl_cli.c). */
#include "sl_common.h"

#include <stdio.h>

int main(void)
{
	printf("sluice\n");
	return 0;
}
