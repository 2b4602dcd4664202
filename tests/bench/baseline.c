/* SPDX-License-Identifier: Apache-2.0 */
/*
 * baseline.c - the parse-only floor for sluice's benchmark: read a file of
 * JSON lines and run yajl's callback parser over each line (one handle per
 * line, as a line-oriented collector must; callbacks count tokens). No
 * records, no output. Prints MB/s and lines/s; run.sh compares sluice to it.
 *
 * usage: bench_baseline FILE
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_parse.h>

struct counts {
	uint64_t tokens;
	uint64_t strings;
};

static int on_null(void *c)
{
	((struct counts *)c)->tokens++;
	return 1;
}

static int on_bool(void *c, int v)
{
	(void)v;
	((struct counts *)c)->tokens++;
	return 1;
}

static int on_number(void *c, const char *s, size_t n)
{
	(void)s;
	(void)n;
	((struct counts *)c)->tokens++;
	return 1;
}

static int on_string(void *c, const unsigned char *s, size_t n)
{
	(void)s;
	(void)n;
	((struct counts *)c)->tokens++;
	((struct counts *)c)->strings++;
	return 1;
}

static int on_key(void *c, const unsigned char *s, size_t n)
{
	(void)s;
	(void)n;
	((struct counts *)c)->tokens++;
	return 1;
}

static int on_open(void *c)
{
	((struct counts *)c)->tokens++;
	return 1;
}

static const yajl_callbacks callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_bool,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_open,
    .yajl_map_key = on_key,
    .yajl_end_map = on_open,
    .yajl_start_array = on_open,
    .yajl_end_array = on_open,
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct counts c = {0};
	uint64_t lines = 0, bad = 0;
	const char *p, *end, *nl;
	struct stat st;
	double t0, t;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0) {
		perror(argv[1]);
		return 1;
	}
	t0 = now();
	/* Reading is part of the job: the file is mapped and faulted in. */
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	madvise((void *)p, (size_t)st.st_size, MADV_SEQUENTIAL);
	end = p + st.st_size;
	while (p < end) {
		yajl_handle h;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (nl > p) {
			h = yajl_alloc(&callbacks, NULL, &c);
			if (!h)
				return 1;
			if (yajl_parse(h, (const unsigned char *)p,
				       (size_t)(nl - p)) != yajl_status_ok ||
			    yajl_complete_parse(h) != yajl_status_ok)
				bad++;
			yajl_free(h);
			lines++;
		}
		p = nl + 1;
	}
	t = now() - t0;
	printf("baseline: %llu lines (%llu not JSON), %.1f MB, %llu tokens in "
	       "%.3f s: %.1f MB/s, %.0f lines/s\n",
	       (unsigned long long)lines, (unsigned long long)bad,
	       (double)st.st_size / 1e6, (unsigned long long)c.tokens, t,
	       (double)st.st_size / 1e6 / t, (double)lines / t);
	close(fd);
	return 0;
}
