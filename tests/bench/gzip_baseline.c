/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gzip_baseline.c - the reference for the output benchmarks: compress the
 * bench data with gzip at zlib's default level (what the HTTP outputs use),
 * in 2 MB pieces like sluice's chunks, and print input MB/s. Nothing else:
 * an output that reaches a good fraction of this spends little beyond the
 * compression it cannot avoid.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#define PIECE (2u * 1024u * 1024u)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned char *in, *out;
	size_t total = 0, compressed = 0, n;
	FILE *f;
	double t0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	f = fopen(argv[1], "rb");
	in = malloc(PIECE);
	out = malloc(compressBound(PIECE) + 64);
	if (!f || !in || !out) {
		perror(argv[1]);
		return 1;
	}
	t0 = now();
	while ((n = fread(in, 1, PIECE, f)) > 0) {
		z_stream z;

		memset(&z, 0, sizeof(z));
		/* 15 + 16: a gzip header, as Content-Encoding: gzip wants */
		if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16,
				 8, Z_DEFAULT_STRATEGY) != Z_OK)
			return 1;
		z.next_in = in;
		z.avail_in = (uInt)n;
		z.next_out = out;
		z.avail_out = (uInt)(compressBound(PIECE) + 64);
		if (deflate(&z, Z_FINISH) != Z_STREAM_END)
			return 1;
		compressed += z.total_out;
		deflateEnd(&z);
		total += n;
	}
	fclose(f);
	double secs = now() - t0;
	printf("gzip baseline: %.1f MB in %.3f s: %.1f MB/s (ratio %.2f)\n",
	       (double)total / 1e6, secs, (double)total / 1e6 / secs,
	       compressed ? (double)total / (double)compressed : 0.0);
	free(in);
	free(out);
	return 0;
}
