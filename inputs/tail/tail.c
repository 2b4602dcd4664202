/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tail.c - the tail input: config map, the file list, and the event
 * plumbing (inotify or stat polling, refresh, rotation, offsets DB) that
 * drives tail_file.c and turns its lines into records. Reading and line
 * cutting live in tail_file.c, globbing in tail_scan.c, the DB in tail_db.c,
 * joining lines in tail_multiline.c, commit-after-ack in tail_ack.c and
 * Kube_Meta_From_Path in tail_k8s.c, finding rotated files and
 * copytruncate copies in tail_rotated.c and tail_recover.c. The DB holds
 * committed offsets only: the end of what every output has released. Not
 * here: Tag_Regex.
 */
#include "sl_input.h"
#include "sl_log.h"
#include "sl_metrics.h"
#include "sl_parser.h"
#include "tail_db.h"
#include "tail_file.h"
#include "tail_k8s.h"
#include "tail_multiline.h"
#include "tail_recover.h"
#include "tail_scan.h"
#include "tail_wd.h"

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

/* Smallest read block: big reads, few syscalls, still cache friendly. */
#define TAIL_BLOCK_MIN (256u * 1024u)
/* Blocks one file may read per turn before others get theirs. */
#define TAIL_BLOCKS_PER_TURN 16
#define TAIL_POLL_MS	     250
#define TAIL_TICK_INOTIFY_MS 1000
/* inotify reads per wake-up: while files keep changing, the queue never
 * empties, and draining it all would starve the reading of the files. */
#define TAIL_INOTIFY_READS 16

struct tail_ctx {
	/* config map */
	struct sl_strlist path;
	struct sl_strlist exclude_path;
	char *key;
	bool read_from_head;
	bool read_new_from_head;
	double refresh_interval;
	double rotate_wait;
	double ignore_older;
	int64_t buffer_chunk_size;
	int64_t buffer_max_size;
	bool skip_long_lines;
	bool skip_empty_lines;
	char *path_key;
	char *offset_key;
	char *parser_name;
	char *db_path;
	char *db_sync;
	bool exit_on_eof;
	bool inotify_watcher;
	struct sl_cfg_multi ml_names;
	bool kube_meta;
	bool rotated_search;
	struct sl_strlist rotated_path;

	/* runtime */
	struct sl_input *in;		/* borrowed */
	const struct sl_parser *parser; /* borrowed from the instance */
	enum tail_db_sync sync;
	struct tail_line_opts lopts;
	size_t key_len, path_key_len, offset_key_len;
	char *buf; /* owned: the one read block */
	size_t buf_cap;
	struct tail_file *files; /* owned list */
	struct tail_db db;
	bool have_db;
	struct sl_record rec;
	bool rec_ok;
	/* the chunk of the line being emitted was declared safe (sealed or
	 * persisted) inside sl_input_emit, before that line was recorded */
	bool in_emit, told_current;
	struct tail_ml ml; /* the multiline.parser list */
	bool ml_ok, have_ml;
	struct event *work_ev, *tick_ev, *refresh_ev, *inotify_ev, *ml_ev;
	int inotify_fd;
	struct tail_wd_map wds; /* inotify watch -> file */
	bool paused, stopped, finished, destroying;
	bool warned_watches; /* the inotify watch limit was logged */
	/* counters (NULL without a metrics registry: unit tests) */
	struct sl_metric_series *m_skipped, *m_long_stops, *m_rot_found,
	    *m_rot_lost_bytes, *m_rot_lost_files;
	struct tail_recover recover; /* rotated and truncated files */
	bool recover_ok;
};

static const struct sl_cfg_option tail_config[] = {
    {.name = "Path",
     .type = SL_CFG_SLIST,
     .flags = SL_CFG_REQUIRED,
     .offset = offsetof(struct tail_ctx, path),
     .desc = "comma-separated globs of the files to follow"},
    {.name = "Exclude_Path",
     .type = SL_CFG_SLIST,
     .offset = offsetof(struct tail_ctx, exclude_path),
     .desc = "comma-separated patterns of files not to follow"},
    {.name = "Key",
     .type = SL_CFG_STR,
     .def = "log",
     .offset = offsetof(struct tail_ctx, key),
     .desc = "field that holds the line when no parser applies"},
    {.name = "Read_from_Head",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = offsetof(struct tail_ctx, read_from_head),
     .desc = "files found at start without a DB offset: read from the "
	     "head, not the end"},
    {.name = "Read_Newly_Discovered_Files_From_Head",
     .type = SL_CFG_BOOL,
     .def = "on",
     .offset = offsetof(struct tail_ctx, read_new_from_head),
     .desc = "files appearing after start: read from the head"},
    {.name = "Refresh_Interval",
     .type = SL_CFG_TIME,
     .def = "60",
     .min = 0.001,
     .max = 31536000,
     .offset = offsetof(struct tail_ctx, refresh_interval),
     .desc = "seconds between rescans of the Path globs"},
    {.name = "Rotate_Wait",
     .type = SL_CFG_TIME,
     .def = "5",
     .min = 0,
     .max = 31536000,
     .offset = offsetof(struct tail_ctx, rotate_wait),
     .desc = "seconds a rotated file is still watched after its end"},
    {.name = "Ignore_Older",
     .type = SL_CFG_TIME,
     .def = "0",
     .min = 0,
     .max = 3153600000.0,
     .offset = offsetof(struct tail_ctx, ignore_older),
     .desc = "skip files not modified for this long (0: off)"},
    {.name = "Buffer_Chunk_Size",
     .type = SL_CFG_SIZE,
     .def = "32K",
     .min = 1,
     .max = 1e12,
     .offset = offsetof(struct tail_ctx, buffer_chunk_size),
     .desc = "initial read size"},
    {.name = "Buffer_Max_Size",
     .type = SL_CFG_SIZE,
     .def = "32K",
     .min = 1,
     .max = 1e12,
     .offset = offsetof(struct tail_ctx, buffer_max_size),
     .desc = "longest line accepted"},
    {.name = "Skip_Long_Lines",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = offsetof(struct tail_ctx, skip_long_lines),
     .desc = "skip (and count) lines over Buffer_Max_Size instead of "
	     "stopping the file"},
    {.name = "Skip_Empty_Lines",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = offsetof(struct tail_ctx, skip_empty_lines),
     .desc = "do not emit empty lines"},
    {.name = "Path_Key",
     .type = SL_CFG_STR,
     .offset = offsetof(struct tail_ctx, path_key),
     .desc = "add the file's path under this key"},
    {.name = "Offset_Key",
     .type = SL_CFG_STR,
     .offset = offsetof(struct tail_ctx, offset_key),
     .desc = "add the line's file offset under this key"},
    {.name = "Parser",
     .type = SL_CFG_STR,
     .offset = offsetof(struct tail_ctx, parser_name),
     .desc = "parser applied to each line"},
    {.name = "DB",
     .type = SL_CFG_STR,
     .offset = offsetof(struct tail_ctx, db_path),
     .desc = "offsets database file: positions survive restarts"},
    {.name = "DB.sync",
     .type = SL_CFG_STR,
     .def = "normal",
     .offset = offsetof(struct tail_ctx, db_sync),
     .desc = "off|normal|full|extra: how hard DB saves reach the disk"},
    {.name = "Exit_On_Eof",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = offsetof(struct tail_ctx, exit_on_eof),
     .desc = "finish once every file is read to its end"},
    {.name = "Inotify_Watcher",
     .type = SL_CFG_BOOL,
     .def = "on",
     .offset = offsetof(struct tail_ctx, inotify_watcher),
     .desc = "use inotify (off: stat polling)"},
    {.name = "multiline.parser",
     .type = SL_CFG_STR,
     .flags = SL_CFG_MULTI,
     .offset = offsetof(struct tail_ctx, ml_names),
     .desc = "comma-separated multiline parsers tried in order: docker, "
	     "cri, go, java, python, ruby, or [MULTILINE_PARSER] names"},
    {.name = "Kube_Meta_From_Path",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = offsetof(struct tail_ctx, kube_meta),
     .desc = "add kubernetes.{namespace_name,pod_name,container_name,"
	     "docker_id} from /var/log/containers/<pod>_<ns>_<container>-"
	     "<id>.log names"},
    {.name = "Rotated_Search",
     .type = SL_CFG_BOOL,
     .def = "on",
     .offset = offsetof(struct tail_ctx, rotated_search),
     .desc = "with a DB: find files rotated while sluice was down, and "
	     "copytruncate copies, and read what was not read yet"},
    {.name = "Rotated_Path",
     .type = SL_CFG_SLIST,
     .offset = offsetof(struct tail_ctx, rotated_path),
     .desc = "comma-separated globs where rotated files also go (beside "
	     "the file is always searched)"},
    /* Fluent Bit options sluice accepts and does not use (yet). */
    {.name = "Tag_Regex",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED,
     .desc = "not implemented: the Tag is used with '*' expansion"},
    {.name = "Watcher_Interval",
     .type = SL_CFG_TIME,
     .flags = SL_CFG_IGNORED,
     .desc = "ignored"},
    {.name = "Progress_Check_Interval",
     .type = SL_CFG_TIME,
     .flags = SL_CFG_IGNORED,
     .desc = "ignored"},
    {.name = "Progress_Check_Interval_Nsec",
     .type = SL_CFG_INT,
     .flags = SL_CFG_IGNORED,
     .desc = "ignored"},
    {.name = "Docker_Mode",
     .type = SL_CFG_BOOL,
     .flags = SL_CFG_IGNORED,
     .desc = "ignored: use multiline.parser docker"},
    {.name = "Docker_Mode_Flush",
     .type = SL_CFG_INT,
     .flags = SL_CFG_IGNORED,
     .desc = "ignored"},
    {.name = "Docker_Mode_Parser",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED,
     .desc = "ignored"},
    {.name = "Ignore_Active_Older_Files",
     .type = SL_CFG_BOOL,
     .flags = SL_CFG_IGNORED,
     .desc = "ignored"},
    {.name = "Static_Batch_Size",
     .type = SL_CFG_SIZE,
     .flags = SL_CFG_IGNORED,
     .desc = "ignored"},
    {.name = "Event_Batch_Size",
     .type = SL_CFG_SIZE,
     .flags = SL_CFG_IGNORED,
     .desc = "ignored"},
    {.name = "Truncate_Long_Lines",
     .type = SL_CFG_BOOL,
     .flags = SL_CFG_IGNORED,
     .desc = "ignored"},
    {.name = "File_Cache_Advise",
     .type = SL_CFG_BOOL,
     .flags = SL_CFG_IGNORED,
     .desc = "ignored"},
    {.name = "DB.locking",
     .type = SL_CFG_BOOL,
     .flags = SL_CFG_IGNORED,
     .desc = "ignored (no sqlite)"},
    {.name = "DB.journal_mode",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED,
     .desc = "ignored (no sqlite)"},
    {.name = "DB.compare_filename",
     .type = SL_CFG_BOOL,
     .flags = SL_CFG_IGNORED,
     .desc = "ignored: files are known by inode and fingerprint"},
    {.name = "Multiline",
     .type = SL_CFG_BOOL,
     .flags = SL_CFG_IGNORED,
     .desc = "ignored (old multiline)"},
    {.name = "Multiline_Flush",
     .type = SL_CFG_TIME,
     .flags = SL_CFG_IGNORED,
     .desc = "ignored (old multiline)"},
    {.name = "Parser_Firstline",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED,
     .desc = "ignored (old multiline)"},
    {.name = "Parser_",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED | SL_CFG_PREFIX,
     .desc = "Parser_N: ignored (old multiline)"},
    {.name = "Unicode.Encoding",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED,
     .desc = "ignored"},
    {.name = "Generic.Encoding",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED,
     .desc = "ignored"},
    SL_CFG_END,
};

/* ---- records ------------------------------------------------------------ */

/* The DB learns the committed offset of `f` (saved on the next tick). */
static void commit(struct tail_ctx *ctx, struct tail_file *f)
{
	tail_db_set(&ctx->db, f->fd, (uint64_t)f->ino, f->name,
		    f->ack.committed);
}

/*
 * Emits the record in ctx->rec for the lines of `f` in [off, end) and
 * notes which chunk took it, so that the offset is committed once that
 * chunk is released.
 */
static int emit(struct tail_ctx *ctx, struct tail_file *f, int64_t off,
		int64_t end)
{
	struct sl_record *rec = &ctx->rec;
	uint64_t chunk = 0;
	int rc;

	if (f->k8s)
		sl_record_set(rec, "kubernetes", 10, f->k8s, f->k8s_len);
	if (ctx->path_key)
		sl_record_set_string(rec, ctx->path_key, ctx->path_key_len,
				     f->name, f->name_len);
	if (ctx->offset_key) {
		char num[24];
		int n = snprintf(num, sizeof(num), "%" PRId64, off);

		sl_record_set(rec, ctx->offset_key, ctx->offset_key_len, num,
			      (size_t)n);
	}
	/* who the record is after a restart: the file (device, inode) and the
	 * line's start offset, both what the DB finds again (record identity)
	 */
	sl_record_set_origin(
	    rec,
	    sl_identity_mix(sl_identity_mix((uint64_t)f->dev, (uint64_t)f->ino),
			    (uint64_t)off));
	/* -SL_ENOMEM is counted by the engine as a buffer_full drop: like a
	 * filter drop, nothing to wait for. */
	ctx->in_emit = true;
	ctx->told_current = false;
	if (sl_input_emit(ctx->in, f->tag, f->tag_len, rec) == 0)
		chunk = sl_input_last_chunk(ctx->in);
	ctx->in_emit = false;
	rc = tail_ack_push(&f->ack, chunk, end);
	if (rc == 0 && chunk && ctx->told_current)
		rc = tail_ack_persisted(&f->ack, chunk);
	if (rc == -SL_ENOMEM)
		sl_log(SL_LOG_ERROR, "tail",
		       "%s: out of memory: its offset is "
		       "no longer committed until restart",
		       f->name);
	else if (rc == 1 && ctx->have_db)
		commit(ctx, f);
	return sl_input_paused(ctx->in) ? 1 : 0;
}

static int emit_line(struct tail_ctx *ctx, struct tail_file *f,
		     const char *line, size_t len, int64_t off, int64_t end,
		     int64_t ts_ns)
{
	struct sl_record *rec = &ctx->rec;

	sl_record_reset_line(rec, ts_ns, ctx->key, ctx->key_len, line, len);
	if (ctx->parser && sl_parser_apply(ctx->parser, line, len, rec) < 0)
		sl_record_flag_parse_error(rec);
	return emit(ctx, f, off, end);
}

struct ml_arg {
	struct tail_ctx *ctx;
	struct tail_file *f;
};

/* A joined group (or a line no multiline parser took) becomes a record. */
static int on_group(void *arg, const struct tail_ml_out *o)
{
	struct ml_arg *a = arg;
	struct sl_record *rec = &a->ctx->rec;

	if (!o->base)
		return emit_line(a->ctx, a->f, o->text, o->len, o->start,
				 o->end, o->ts_ns);
	if (sl_record_reset_json(rec, o->ts_ns, o->base, o->base_len) < 0 ||
	    sl_record_set_string(rec, o->key, strlen(o->key), o->text, o->len) <
		0) {
		/* Cannot happen for objects the parsers produced, but the
		 * content is never lost: it goes out as a plain line. */
		sl_record_reset_line(rec, o->ts_ns, a->ctx->key,
				     a->ctx->key_len, o->text, o->len);
		sl_record_flag_parse_error(rec);
	}
	return emit(a->ctx, a->f, o->start, o->end);
}

static int on_line(void *arg, struct tail_file *f, const char *line, size_t len,
		   int64_t off, int64_t ts_ns)
{
	struct tail_ctx *ctx = arg;
	struct ml_arg a = {ctx, f};
	int rc;

	if (!ctx->have_ml)
		return emit_line(ctx, f, line, len, off, f->line_end, ts_ns);
	rc = tail_ml_feed(&ctx->ml, &f->ml, line, len, off, f->line_end, ts_ns,
			  sl_mono_ns(), on_group, &a);
	if (rc < 0)
		sl_log(SL_LOG_ERROR, "tail", "%s: out of memory joining lines",
		       f->name);
	return sl_input_paused(ctx->in) ? 1 : 0;
}

/* Emits the pending multiline group of `f` (EOF, rotation, shutdown). */
static void ml_flush(struct tail_ctx *ctx, struct tail_file *f)
{
	struct ml_arg a = {ctx, f};

	if (ctx->have_ml)
		tail_ml_flush(&ctx->ml, &f->ml, on_group, &a);
}

/* ---- the file list ------------------------------------------------------ */

static void schedule(struct tail_ctx *ctx);

static struct tail_file *find_ino(struct tail_ctx *ctx, dev_t dev, ino_t ino)
{
	for (struct tail_file *f = ctx->files; f; f = f->next)
		if (f->ino == ino && f->dev == dev)
			return f;
	return NULL;
}

static void watch(struct tail_ctx *ctx, struct tail_file *f)
{
	struct tail_file *other;

	if (ctx->inotify_fd < 0)
		return;
	f->wd = inotify_add_watch(ctx->inotify_fd, f->name,
				  IN_MODIFY | IN_MOVE_SELF | IN_DELETE_SELF |
				      IN_ATTRIB);
	if (f->wd < 0) {
		int err = errno;

		/* Past fs.inotify.max_user_watches every further file is
		 * polled: said once, loudly, since the operator can fix it. */
		if (err == ENOSPC && !ctx->warned_watches) {
			ctx->warned_watches = true;
			sl_log(SL_LOG_WARN, "tail",
			       "%s: inotify watch limit reached "
			       "(fs.inotify.max_user_watches): this and "
			       "further files are polled every second",
			       f->name);
		}
		sl_log(SL_LOG_DEBUG, "tail",
		       "%s: no inotify watch (%s); "
		       "polled instead",
		       f->name, strerror(err));
		return;
	}
	other = tail_wd_find(&ctx->wds, f->wd);
	if (other && other != f) {
		/* The inode is watched for another entry already (one watch
		 * per inode): that one keeps it, this one is polled. */
		f->wd = -1;
		return;
	}
	if (tail_wd_add(&ctx->wds, f->wd, f) < 0) {
		inotify_rm_watch(ctx->inotify_fd, f->wd);
		f->wd = -1; /* out of memory: polled by the tick */
	}
}

static void unlink_file(struct tail_ctx *ctx, struct tail_file *f)
{
	for (struct tail_file **pp = &ctx->files; *pp; pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	}
	if (f->wd >= 0 && ctx->inotify_fd >= 0) {
		tail_wd_remove(&ctx->wds, f->wd, f);
		inotify_rm_watch(ctx->inotify_fd, f->wd);
	}
	if (f->long_lines)
		sl_log(SL_LOG_INFO, "tail",
		       "%s: %" PRIu64 " long lines were "
		       "skipped",
		       f->name, f->long_lines);
	tail_file_destroy(f);
}

static bool followed(void *arg, dev_t dev, ino_t ino)
{
	return find_ino(arg, dev, ino) != NULL;
}

static bool followed_ino(void *arg, uint64_t ino)
{
	struct tail_ctx *ctx = arg;

	for (struct tail_file *f = ctx->files; f; f = f->next)
		if ((uint64_t)f->ino == ino)
			return true;
	return false;
}

/* Gives `f` (opened, at `off`) its tag and metadata and follows it. */
static int adopt(struct tail_ctx *ctx, struct tail_file *f, int64_t off)
{
	char *tag;
	size_t tag_len;
	const char *itag = sl_input_tag(ctx->in, &tag_len);
	int rc;

	rc = tail_tag_compose(itag, f->name, &tag, &tag_len);
	if (rc < 0)
		return rc;
	free(f->tag);
	f->tag = tag;
	f->tag_len = tag_len;
	f->offset = off;
	tail_ack_init(&f->ack, off);
	if (ctx->kube_meta) {
		rc = tail_k8s_json(f->name, &f->k8s, &f->k8s_len);
		if (rc == -SL_ENOMEM)
			return rc;
	}
	f->next = ctx->files;
	ctx->files = f;
	if (!f->rotated)
		watch(ctx, f); /* rotated ones are polled by the tick */
	if (ctx->have_db)
		tail_db_set(&ctx->db, f->fd, (uint64_t)f->ino, f->name,
			    f->offset);
	return 0;
}

/*
 * Follows the rotated file at `path` as the old content of `name` from
 * `off` to its end (then lets it go after Rotate_Wait, like a file rotated
 * while followed). 0 (also when it is followed already) or negative.
 */
static int follow_rotated(void *arg, const char *path, const char *name,
			  int64_t off, const char *why)
{
	struct tail_ctx *ctx = arg;
	struct tail_file *f;
	int64_t size;
	char *n;
	int rc = tail_file_open(path, &f);

	if (rc < 0)
		return rc;
	if (find_ino(ctx, f->dev, f->ino)) {
		tail_file_destroy(f);
		return 0;
	}
	n = strdup(name);
	if (!n) {
		tail_file_destroy(f);
		return -SL_ENOMEM;
	}
	free(f->name);
	f->name = n;
	f->name_len = strlen(n);
	size = tail_file_size(f);
	if (off > size)
		off = 0; /* truncated since: all of it is unread */
	f->rotated = true;
	rc = adopt(ctx, f, off);
	if (rc < 0) {
		tail_file_destroy(f);
		return rc;
	}
	if (ctx->m_rot_found)
		sl_metric_add(ctx->m_rot_found, 1);
	sl_log(SL_LOG_INFO, "tail",
	       "%s: %s: reading %s from offset %" PRId64 " (%" PRId64 " bytes)",
	       name, why, path, off, size - off);
	schedule(ctx);
	return 0;
}

/* One log line and the counters for rotated content that cannot be read. */
static void lost(void *arg, const char *name, const char *what, int64_t bytes)
{
	struct tail_ctx *ctx = arg;

	if (ctx->m_rot_lost_files)
		sl_metric_add(ctx->m_rot_lost_files, 1);
	if (bytes > 0 && ctx->m_rot_lost_bytes)
		sl_metric_add(ctx->m_rot_lost_bytes, (double)bytes);
	if (bytes >= 0)
		sl_log(SL_LOG_WARN, "tail",
		       "%s: %s: %" PRId64 " unread bytes "
		       "lost",
		       name, what, bytes);
	else
		sl_log(SL_LOG_WARN, "tail",
		       "%s: %s: what it held past its "
		       "saved offset is lost",
		       name, what);
}

/* A truncation seen while reading: the copy holds what we had not read. */
static void after_truncation(struct tail_ctx *ctx, struct tail_file *f)
{
	f->trunc_pending = false;
	ml_flush(ctx, f); /* the old content's last group */
	tail_recover_copy(&ctx->recover, f->name, f->trunc_fp_len, f->trunc_fp,
			  f->trunc_offset, f->trunc_size);
	/* older copies are older than the one found */
	tail_recover_end_pass(&ctx->recover);
}

/*
 * Where a followed file starts. A DB entry for its inode gives the offset;
 * but when the file no longer starts the same (copytruncate while sluice
 * was down) or is shorter, it is read from 0 and the old content's copy is
 * looked for. A path the DB knew under another inode holds the successor
 * of a rotated file: read from the start too.
 */
static int64_t start_offset(struct tail_ctx *ctx, struct tail_file *f,
			    int64_t size, bool from_head)
{
	struct tail_db_entry *e;
	int64_t off = 0;
	uint64_t fp;

	if (!ctx->have_db)
		return !from_head && size > 0 ? size : 0;
	e = tail_db_find(&ctx->db, (uint64_t)f->ino);
	if (e && e->name && strcmp(e->name, f->name) == 0 &&
	    (tail_db_fingerprint(f->fd, e->fp_len, &fp) != 0 || fp != e->fp ||
	     size < e->offset)) {
		uint32_t fp_len = e->fp_len;
		uint64_t efp = e->fp;
		int64_t eoff = e->offset;

		sl_log(SL_LOG_INFO, "tail",
		       "%s: truncated or replaced since its "
		       "offset %" PRId64 " was saved, reading from the start",
		       f->name, eoff);
		tail_db_remove(&ctx->db, (uint64_t)f->ino);
		tail_recover_copy(&ctx->recover, f->name, fp_len, efp, eoff,
				  eoff);
		return 0;
	}
	if (tail_db_lookup(&ctx->db, f->fd, (uint64_t)f->ino, &off) == 0)
		return off;
	if (tail_db_has_name(&ctx->db, f->name))
		return 0;
	return !from_head && size > 0 ? size : 0;
}

/*
 * Starts following `path`. `from_head` decides where a file without a DB
 * offset starts. Returns 0 (also when already followed), or negative.
 */
static int add_file(struct tail_ctx *ctx, const char *path, bool from_head)
{
	struct tail_file *f;
	int64_t off;
	int rc;

	rc = tail_file_open(path, &f);
	if (rc < 0) {
		if (rc != -SL_ENOENT)
			sl_log(SL_LOG_ERROR, "tail", "%s: cannot open: %s",
			       path, strerror(errno));
		return rc;
	}
	if (find_ino(ctx, f->dev, f->ino)) {
		tail_file_destroy(f);
		return 0;
	}
	off = start_offset(ctx, f, tail_file_size(f), from_head);
	rc = adopt(ctx, f, off);
	if (rc < 0) {
		tail_file_destroy(f);
		return rc;
	}
	sl_log(SL_LOG_DEBUG, "tail", "%s: following from offset %" PRId64, path,
	       off);
	return 0;
}

struct ino_key {
	dev_t dev;
	ino_t ino;
};

static int ino_cmp(const void *pa, const void *pb)
{
	const struct ino_key *a = pa, *b = pb;

	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	if (a->ino != b->ino)
		return a->ino < b->ino ? -1 : 1;
	return 0;
}

struct scan_arg {
	struct tail_ctx *ctx;
	bool from_head;
	/* The files followed when the scan began, sorted: a rescan of 5,000
	 * files walked the file list once per path found (O(n^2)). Files
	 * added during the scan are not in it: add_file finds those. */
	struct ino_key *known; /* owned by scan(); NULL: walk the list */
	size_t n_known;
};

static int on_found(void *arg, const char *path, const struct stat *st)
{
	struct scan_arg *a = arg;
	struct ino_key k = {st->st_dev, st->st_ino};

	if (a->known
		? bsearch(&k, a->known, a->n_known, sizeof(k), ino_cmp) != NULL
		: find_ino(a->ctx, st->st_dev, st->st_ino) != NULL)
		return 0;
	if (add_file(a->ctx, path, a->from_head) == -SL_ENOMEM)
		return -SL_ENOMEM;
	return 0;
}

/* Fills a->known with the files followed now (left NULL when there are
 * none or memory is short: on_found then walks the list as before). */
static void scan_known(struct scan_arg *a)
{
	size_t n = 0;

	for (struct tail_file *f = a->ctx->files; f; f = f->next)
		n++;
	if (n == 0 || !(a->known = malloc(n * sizeof(*a->known))))
		return;
	for (struct tail_file *f = a->ctx->files; f; f = f->next) {
		a->known[a->n_known].dev = f->dev;
		a->known[a->n_known].ino = f->ino;
		a->n_known++;
	}
	qsort(a->known, a->n_known, sizeof(*a->known), ino_cmp);
}

static void scan(struct tail_ctx *ctx, bool from_head)
{
	struct tail_scan_opts o = {
	    .paths = &ctx->path,
	    .excludes = &ctx->exclude_path,
	    .ignore_older = ctx->ignore_older,
	    .now_ns = sl_now_ns(),
	};
	struct scan_arg a = {ctx, from_head, NULL, 0};

	scan_known(&a);
	if (tail_scan(&o, on_found, &a) < 0)
		sl_log(SL_LOG_ERROR, "tail",
		       "scanning Path failed: out of "
		       "memory");
	free(a.known);
}

/* ---- reading ------------------------------------------------------------ */

static void schedule(struct tail_ctx *ctx)
{
	if (ctx->work_ev && !ctx->stopped && !ctx->finished)
		event_active(ctx->work_ev, 0, 0);
}

/*
 * Arms the multiline timer for the earliest flush_timeout of a pending
 * group, so that a group whose continuation never comes still goes out.
 */
static void ml_arm(struct tail_ctx *ctx)
{
	int64_t first = INT64_MAX, now, wait;
	struct timeval tv;

	if (!ctx->ml_ev || ctx->stopped)
		return;
	for (struct tail_file *f = ctx->files; f; f = f->next)
		if (tail_ml_pending(&f->ml) && f->ml.deadline_ns < first)
			first = f->ml.deadline_ns;
	if (first == INT64_MAX)
		return;
	now = sl_mono_ns();
	/* in microseconds, rounded up: never wake before the deadline */
	wait = (first > now ? first - now : 0) / 1000 + 1;
	tv.tv_sec = (time_t)(wait / 1000000);
	tv.tv_usec = (suseconds_t)(wait % 1000000);
	evtimer_add(ctx->ml_ev, &tv);
}

static void ml_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tail_ctx *ctx = arg;
	int64_t now = sl_mono_ns();

	(void)fd;
	(void)what;
	for (struct tail_file *f = ctx->files; f; f = f->next) {
		struct ml_arg a = {ctx, f};

		tail_ml_expire(&ctx->ml, &f->ml, now, on_group, &a);
	}
	ml_arm(ctx);
}

static void check_finished(struct tail_ctx *ctx)
{
	if (!ctx->exit_on_eof || ctx->finished)
		return;
	for (struct tail_file *f = ctx->files; f; f = f->next)
		if (!f->failed && (f->pending || !f->at_eof))
			return;
	/* Every file is at its end: its last line, even unterminated, is
	 * the last it will ever have here, so it is emitted too. */
	for (struct tail_file *f = ctx->files; f; f = f->next) {
		int64_t ts = sl_now_ns();

		tail_file_flush_partial(f, ctx->buf, ctx->buf_cap, &ctx->lopts,
					ts, on_line, ctx);
		ml_flush(ctx, f);
	}
	if (ctx->have_db)
		tail_db_save(&ctx->db);
	ctx->finished = true;
	sl_log(SL_LOG_INFO, "tail",
	       "every file read to its end "
	       "(Exit_On_Eof)");
	sl_input_finished(ctx->in);
}

/* Reads one turn of `f`. Returns false when reading must stop (paused). */
static bool read_turn(struct tail_ctx *ctx, struct tail_file *f)
{
	int64_t before = f->offset;
	uint64_t skipped = f->long_lines;
	bool go_on = true;
	int rc = TAIL_READ_MORE;

	/* A truncation ends the turn: the old content's copy is looked for
	 * before the new content is read. */
	for (int i = 0; i < TAIL_BLOCKS_PER_TURN && rc == TAIL_READ_MORE &&
			!f->trunc_pending;
	     i++)
		rc = tail_file_read(f, ctx->buf, ctx->buf_cap, &ctx->lopts,
				    sl_now_ns(), on_line, ctx);
	if (f->offset > before)
		sl_input_add_bytes(ctx->in, (uint64_t)(f->offset - before));
	if (f->long_lines > skipped && ctx->m_skipped)
		sl_metric_add(ctx->m_skipped,
			      (double)(f->long_lines - skipped));
	if (f->trunc_pending)
		after_truncation(ctx, f);
	switch (rc) {
	case TAIL_READ_MORE:
		break;
	case TAIL_READ_STOP:
		go_on = false;
		break;
	case TAIL_READ_EOF:
		f->pending = false;
		if (f->rotated && f->eof_mono_ns == 0)
			f->eof_mono_ns = sl_mono_ns();
		break;
	case -SL_ETOOBIG:
		sl_log(SL_LOG_ERROR, "tail",
		       "%s: a line at offset %" PRId64
		       " is longer than Buffer_Max_Size (%zu bytes): file "
		       "paused (Skip_Long_Lines On would skip it)",
		       f->name, f->offset, ctx->lopts.max_line);
		if (ctx->m_long_stops)
			sl_metric_add(ctx->m_long_stops, 1);
		f->pending = false;
		break;
	default:
		sl_log(SL_LOG_ERROR, "tail", "%s: read failed: %s", f->name,
		       strerror(errno));
		f->failed = true;
		f->pending = false;
		break;
	}
	if (rc != TAIL_READ_EOF)
		f->eof_mono_ns = 0;
	return go_on;
}

static void work_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tail_ctx *ctx = arg;
	bool more = false;

	(void)fd;
	(void)what;
	if (ctx->stopped || ctx->finished || ctx->paused ||
	    sl_input_paused(ctx->in))
		return;
	for (struct tail_file *f = ctx->files; f; f = f->next) {
		if (!f->pending || f->failed)
			continue;
		if (!read_turn(ctx, f))
			return; /* paused: resume() schedules us again */
		more |= f->pending;
	}
	if (more)
		schedule(ctx);
	else
		check_finished(ctx);
	ml_arm(ctx);
}

/* ---- change detection --------------------------------------------------- */

static bool name_followed(struct tail_ctx *ctx, const char *name)
{
	for (struct tail_file *f = ctx->files; f; f = f->next)
		if (!f->rotated && strcmp(f->name, name) == 0)
			return true;
	return false;
}

static void check_rotation(struct tail_ctx *ctx, struct tail_file *f)
{
	if (f->rotated || f->failed || tail_file_check_rotated(f) != 1)
		return;
	f->rotated = true;
	f->pending = true; /* read the old file to its very end */
	f->eof_mono_ns = 0;
	sl_log(SL_LOG_INFO, "tail", "%s: rotated (inode %ju), finishing it",
	       f->name, (uintmax_t)f->ino);
}

static void on_inotify(evutil_socket_t fd, short what, void *arg)
{
	struct tail_ctx *ctx = arg;
	char buf[16384]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	(void)what;
	/* Level-triggered: what is left in the queue wakes us again after
	 * the files had their turn. */
	for (int reads = 0;
	     reads < TAIL_INOTIFY_READS && (n = read(fd, buf, sizeof(buf))) > 0;
	     reads++) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event ev;
			struct tail_file *f;

			memcpy(&ev, p, sizeof(ev));
			p += sizeof(ev) + ev.len;
			if (ev.mask & IN_Q_OVERFLOW) {
				/* Events were lost (a burst over
				 * max_queued_events): any file may have new
				 * lines, and none may wait for its next
				 * write to be read. */
				for (f = ctx->files; f; f = f->next)
					f->pending = true;
				continue;
			}
			f = tail_wd_find(&ctx->wds, ev.wd);
			if (!f)
				continue; /* a watch removed since */
			if (ev.mask & IN_IGNORED) {
				tail_wd_remove(&ctx->wds, f->wd, f);
				f->wd = -1;
			}
			f->pending = true;
			if (ev.mask &
			    (IN_MOVE_SELF | IN_DELETE_SELF | IN_ATTRIB))
				check_rotation(ctx, f);
		}
	}
	schedule(ctx);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tail_ctx *ctx = arg;
	int64_t now = sl_mono_ns();
	int64_t wait_ns = (int64_t)(ctx->rotate_wait * (double)SL_NS_PER_SEC);
	struct tail_file *f, *next;
	bool poll = ctx->inotify_fd < 0;

	(void)fd;
	(void)what;
	for (f = ctx->files; f; f = f->next) {
		if (f->failed)
			continue;
		/* Polled files, and any file inotify could not watch. */
		if ((poll || f->wd < 0) && !f->pending &&
		    tail_file_size(f) != f->eof_size)
			f->pending = true;
		check_rotation(ctx, f);
		/* Truncated and grown back since the last read: only the
		 * head tells. */
		if (!f->rotated && tail_file_check_head(f) == 1) {
			f->pending = true;
			after_truncation(ctx, f);
		}
	}
	/* A rotated file's successor is followed from its first byte. */
	for (f = ctx->files; f; f = f->next)
		if (f->rotated && !name_followed(ctx, f->name) &&
		    !tail_scan_excluded(&ctx->exclude_path, f->name))
			add_file(ctx, f->name, true);
	for (f = ctx->files; f; f = next) {
		next = f->next;
		if (!f->rotated || f->pending || !f->at_eof ||
		    f->eof_mono_ns == 0 || now - f->eof_mono_ns < wait_ns)
			continue;
		/* Its last group goes out now; its DB entry goes only when
		 * every chunk holding its lines is released. */
		ml_flush(ctx, f);
		if (!tail_ack_idle(&f->ack))
			continue;
		sl_log(SL_LOG_INFO, "tail",
		       "%s: rotated file (inode %ju) "
		       "done",
		       f->name, (uintmax_t)f->ino);
		if (ctx->have_db)
			tail_db_remove(&ctx->db, (uint64_t)f->ino);
		unlink_file(ctx, f);
	}
	if (ctx->have_db)
		tail_db_save(&ctx->db);
	schedule(ctx);
}

static void refresh_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tail_ctx *ctx = arg;

	(void)fd;
	(void)what;
	if (ctx->finished)
		return;
	scan(ctx, ctx->read_new_from_head);
	tail_recover_scan(&ctx->recover, false);
	schedule(ctx);
}

/* ---- plugin callbacks --------------------------------------------------- */

/* Builds the multiline.parser list: items of every line, comma-split. */
static int ml_setup(struct tail_ctx *ctx, struct sl_plugin_instance *ins)
{
	size_t max = (size_t)ctx->buffer_max_size;
	int rc = 0;

	/* A joined message may be several lines long; the cap only keeps a
	 * group that never ends from growing without bound. */
	if (tail_ml_init(&ctx->ml, max < (1u << 20) ? (1u << 20) : max) < 0)
		return -SL_ENOMEM;
	ctx->ml_ok = true;
	for (size_t i = 0; i < ctx->ml_names.n; i++) {
		const struct sl_cfg_item *it = &ctx->ml_names.items[i];
		char *list = strdup(it->value), *save = NULL;

		if (!list)
			return -SL_ENOMEM;
		for (char *t = strtok_r(list, ",", &save); t;
		     t = strtok_r(NULL, ",", &save)) {
			char err[256];
			char *e;
			int r;

			while (*t == ' ' || *t == '\t')
				t++;
			e = t + strlen(t);
			while (e > t && (e[-1] == ' ' || e[-1] == '\t'))
				*--e = '\0';
			if (!*t)
				continue;
			r = tail_ml_add(&ctx->ml, t, sl_instance_parsers(ins),
					err, sizeof(err));
			if (r == -SL_ENOMEM) {
				free(list);
				return r;
			}
			/* Fluent Bit accepts such a config too (its own test
			 * configs name parsers they do not load): said loudly,
			 * and the lines go out unjoined. */
			if (r < 0)
				sl_log(SL_LOG_WARN, "tail",
				       "%s:%d: multiline."
				       "parser: %s; ignored, lines are not "
				       "joined",
				       it->file, it->line, err);
		}
		free(list);
	}
	ctx->have_ml = ctx->ml.n > 0;
	return rc;
}

static int tail_init(void *data, struct sl_input *in)
{
	struct tail_ctx *ctx = data;
	struct sl_plugin_instance *ins = sl_input_instance(in);
	int rc = 0;

	ctx->in = in;
	ctx->inotify_fd = -1;
	tail_wd_init(&ctx->wds);
	if (ctx->buffer_chunk_size > ctx->buffer_max_size) {
		sl_plugin_error(ins, 0,
				"Buffer_Max_Size (%" PRId64 ") must be "
				">= Buffer_Chunk_Size (%" PRId64 ")",
				ctx->buffer_max_size, ctx->buffer_chunk_size);
		rc = -SL_ECONFIG;
	}
	if (ctx->db_sync && tail_db_parse_sync(ctx->db_sync, &ctx->sync) < 0) {
		sl_plugin_error(ins, 0,
				"DB.sync '%s': expected off, normal, "
				"full or extra",
				ctx->db_sync);
		rc = -SL_ECONFIG;
	}
	if (ctx->parser_name) {
		ctx->parser =
		    sl_parsers_find(sl_instance_parsers(ins), ctx->parser_name);
		if (!ctx->parser) {
			sl_plugin_error(ins, 0, "Parser '%s' is not defined",
					ctx->parser_name);
			rc = -SL_ECONFIG;
		}
	}
	if (!ctx->key || !*ctx->key) {
		sl_plugin_error(ins, 0, "Key must not be empty");
		rc = -SL_ECONFIG;
	}
	if (ctx->ml_names.n) {
		int mrc = ml_setup(ctx, ins);

		if (mrc < 0)
			rc = mrc == -SL_ENOMEM ? mrc : -SL_ECONFIG;
	}
	if (rc < 0)
		return rc;
	ctx->key_len = strlen(ctx->key);
	ctx->path_key_len = ctx->path_key ? strlen(ctx->path_key) : 0;
	ctx->offset_key_len = ctx->offset_key ? strlen(ctx->offset_key) : 0;
	ctx->lopts.max_line = (size_t)ctx->buffer_max_size;
	ctx->lopts.skip_long = ctx->skip_long_lines;
	ctx->lopts.skip_empty = ctx->skip_empty_lines;
	ctx->buf_cap = TAIL_BLOCK_MIN;
	if ((size_t)ctx->buffer_chunk_size > ctx->buf_cap)
		ctx->buf_cap = (size_t)ctx->buffer_chunk_size;
	if (ctx->lopts.max_line + 4 > ctx->buf_cap)
		ctx->buf_cap = ctx->lopts.max_line + 4;
	sl_record_init(&ctx->rec);
	ctx->rec_ok = true;
	return 0;
}

static struct event *timer(struct tail_ctx *ctx, struct event_base *base,
			   event_callback_fn cb, double seconds)
{
	struct timeval tv = {
	    .tv_sec = (time_t)seconds,
	    .tv_usec = (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6),
	};
	struct event *ev = event_new(base, -1, EV_PERSIST, cb, ctx);

	if (ev && event_add(ev, &tv) < 0) {
		event_free(ev);
		ev = NULL;
	}
	return ev;
}

/* The counters of this input in the metrics registry. */
static struct sl_metric_series *counter(struct sl_plugin_instance *ins,
					const char *name, const char *help)
{
	static const char *const labels[] = {"name"};
	struct sl_metrics *reg = sl_instance_metrics(ins);
	const char *values[] = {sl_plugin_instance_name(ins)};
	struct sl_metric_family *fam;
	const char *err;

	if (!reg)
		return NULL; /* unit tests: no registry */
	fam = sl_metrics_family(reg, name, help, SL_METRIC_COUNTER, labels, 1,
				NULL, 0, &err);
	if (!fam)
		return NULL;
	fam->max_series = 0; /* one per input: bounded by the config */
	return sl_metric_series_get(reg, fam, values);
}

static void register_metrics(struct tail_ctx *ctx, struct sl_input *in)
{
	struct sl_plugin_instance *ins = sl_input_instance(in);

	ctx->m_skipped = counter(ins, "sluice_input_skipped_lines_total",
				 "lines skipped for being longer than "
				 "Buffer_Max_Size (Skip_Long_Lines)");
	ctx->m_long_stops = counter(ins, "sluice_input_long_line_stops_total",
				    "files stopped on a line longer than "
				    "Buffer_Max_Size (Skip_Long_Lines Off)");
	ctx->m_rot_found = counter(ins, "sluice_tail_rotated_recovered_total",
				   "rotated files and copytruncate copies "
				   "found and read on from where sluice was");
	ctx->m_rot_lost_bytes =
	    counter(ins, "sluice_tail_rotated_lost_bytes_total",
		    "unread bytes of rotated files that "
		    "were compressed before being read");
	ctx->m_rot_lost_files =
	    counter(ins, "sluice_tail_rotated_lost_files_total",
		    "rotated files not read to their end: "
		    "compressed or gone");
}

/* Rotated and truncated files are found for us by tail_recover.c. */
static void recover_setup(struct tail_ctx *ctx)
{
	struct tail_recover_host h = {
	    .arg = ctx,
	    .db = ctx->have_db ? &ctx->db : NULL,
	    .paths = &ctx->path,
	    .excludes = &ctx->exclude_path,
	    .rotated_path = &ctx->rotated_path,
	    .search = ctx->rotated_search,
	    .followed = followed,
	    .followed_ino = followed_ino,
	    .follow = follow_rotated,
	    .lost = lost,
	};

	tail_recover_init(&ctx->recover, &h);
	ctx->recover_ok = true;
}

static int tail_start(void *data, struct sl_input *in)
{
	struct tail_ctx *ctx = data;
	struct event_base *base = sl_input_base(in);
	int rc;

	ctx->buf = malloc(ctx->buf_cap);
	if (!ctx->buf)
		return -SL_ENOMEM;
	register_metrics(ctx, in);
	if (ctx->db_path) {
		rc = tail_db_open(&ctx->db, ctx->db_path, ctx->sync);
		if (rc < 0) {
			sl_log(SL_LOG_ERROR, "tail", "DB %s: cannot be used",
			       ctx->db_path);
			return rc;
		}
		ctx->have_db = true;
	}
	sl_input_set_rereadable(in, ctx->have_db); /* the file is the buffer */
	if (ctx->inotify_watcher) {
		ctx->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (ctx->inotify_fd < 0)
			sl_log(SL_LOG_WARN, "tail",
			       "inotify unavailable (%s): "
			       "polling files every %d ms",
			       strerror(errno), TAIL_POLL_MS);
	}
	recover_setup(ctx);
	scan(ctx, ctx->read_from_head);
	tail_recover_scan(&ctx->recover, true);
	if (!ctx->files)
		sl_log(SL_LOG_INFO, "tail", "no file matches Path yet");
	ctx->work_ev = event_new(base, -1, 0, work_cb, ctx);
	if (ctx->inotify_fd >= 0) {
		ctx->inotify_ev =
		    event_new(base, ctx->inotify_fd, EV_READ | EV_PERSIST,
			      on_inotify, ctx);
		if (!ctx->inotify_ev || event_add(ctx->inotify_ev, NULL) < 0)
			return -SL_ENOMEM;
	}
	ctx->tick_ev =
	    timer(ctx, base, tick_cb,
		  (ctx->inotify_fd >= 0 ? TAIL_TICK_INOTIFY_MS : TAIL_POLL_MS) /
		      1000.0);
	ctx->refresh_ev = timer(ctx, base, refresh_cb, ctx->refresh_interval);
	if (!ctx->work_ev || !ctx->tick_ev || !ctx->refresh_ev)
		return -SL_ENOMEM;
	if (ctx->have_ml) {
		ctx->ml_ev = evtimer_new(base, ml_timer_cb, ctx);
		if (!ctx->ml_ev)
			return -SL_ENOMEM;
	}
	if (ctx->have_db)
		tail_db_save(&ctx->db);
	schedule(ctx);
	return 0;
}

static void tail_pause(void *data)
{
	struct tail_ctx *ctx = data;

	ctx->paused = true;
}

static void tail_chunk_released(void *data, uint64_t id)
{
	struct tail_ctx *ctx = data;

	if (ctx->in_emit && id == sl_input_last_chunk(ctx->in))
		ctx->told_current = true;
	for (struct tail_file *f = ctx->files; f; f = f->next)
		if (tail_ack_release(&f->ack, id) == 1 && ctx->have_db)
			commit(ctx, f);
}

/* storage.type filesystem: the lines so far in chunk `id` are on disk, so
 * their offsets may be committed now (a crash re-reads about one Flush). */
static void tail_chunk_persisted(void *data, uint64_t id)
{
	struct tail_ctx *ctx = data;

	if (ctx->in_emit && id == sl_input_last_chunk(ctx->in))
		ctx->told_current = true;
	for (struct tail_file *f = ctx->files; f; f = f->next)
		if (tail_ack_persisted(&f->ack, id) == 1 && ctx->have_db)
			commit(ctx, f);
}

static void tail_resume(void *data)
{
	struct tail_ctx *ctx = data;

	ctx->paused = false;
	for (struct tail_file *f = ctx->files; f; f = f->next)
		f->pending = true;
	schedule(ctx);
}

static void free_event(struct event **ev)
{
	if (*ev) {
		event_free(*ev);
		*ev = NULL;
	}
}

static void tail_stop(void *data)
{
	struct tail_ctx *ctx = data;

	/* Joined groups still waiting for a continuation go out now: after
	 * stop nothing may be emitted. */
	if (!ctx->stopped && !ctx->destroying)
		for (struct tail_file *f = ctx->files; f; f = f->next)
			ml_flush(ctx, f);
	ctx->stopped = true;
	free_event(&ctx->ml_ev);
	free_event(&ctx->work_ev);
	free_event(&ctx->tick_ev);
	free_event(&ctx->refresh_ev);
	free_event(&ctx->inotify_ev);
	if (ctx->have_db)
		tail_db_save(&ctx->db);
}

static void tail_destroy(void *data)
{
	struct tail_ctx *ctx = data;

	if (!ctx->in)
		return;		/* init never ran */
	ctx->destroying = true; /* the engine takes no records any more */
	tail_stop(ctx);
	/* Chunks released during the grace period committed more. */
	if (ctx->have_db)
		tail_db_save(&ctx->db);
	while (ctx->files)
		unlink_file(ctx, ctx->files);
	if (ctx->inotify_fd >= 0)
		close(ctx->inotify_fd);
	ctx->inotify_fd = -1;
	tail_wd_destroy(&ctx->wds);
	if (ctx->have_db)
		tail_db_close(&ctx->db);
	ctx->have_db = false;
	if (ctx->rec_ok)
		sl_record_destroy(&ctx->rec);
	ctx->rec_ok = false;
	if (ctx->ml_ok)
		tail_ml_destroy(&ctx->ml);
	ctx->ml_ok = ctx->have_ml = false;
	free(ctx->buf);
	ctx->buf = NULL;
	if (ctx->recover_ok)
		tail_recover_destroy(&ctx->recover);
	ctx->recover_ok = false;
}

const struct sl_input_plugin sl_input_tail = {
    .name = "tail",
    .description = "follow files like tail -F: globs, rotation, offsets DB",
    .config_map = tail_config,
    .ctx_size = sizeof(struct tail_ctx),
    .init = tail_init,
    .start = tail_start,
    .pause = tail_pause,
    .resume = tail_resume,
    .chunk_released = tail_chunk_released,
    .chunk_persisted = tail_chunk_persisted,
    .stop = tail_stop,
    .destroy = tail_destroy,
};
